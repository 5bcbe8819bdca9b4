import Foundation
import Jobs
import Testing
import ThePredKinds

@Suite("Schemas")
struct SchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func schema(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: root.appendingPathComponent("schemas/jobs/\(name)"))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test("the envelope schema names exactly the fields the encoder writes")
    func envelopeFields() throws {
        let schema = try Self.schema("envelope.schema.json")
        let properties = try #require(schema["properties"] as? [String: Any])
        let required = try #require(schema["required"] as? [String])
        let full = JobEnvelope(
            id: .generate(millis: 1), kind: "k", payload: [], attempt: 2, enqueuedAt: 1, notBefore: 2, idempotencyKey: "i",
            traceContext: "t", owner: "tg:1", snoozes: 1, redrives: 1, errors: [AttemptError(attempt: 1, at: 1, error: "e")], outages: 1)
        #expect(Set(full.fields().map(\.0)) == Set(properties.keys))
        let minimal = JobEnvelope(id: .generate(millis: 1), kind: "k", payload: [], enqueuedAt: 1)
        #expect(Set(required).isSubset(of: Set(minimal.fields().map(\.0))))
    }

    @Test("every registered job kind has a payload schema")
    func kindsHaveSchemas() throws {
        for kind in try AppKinds.registry().all {
            let schema = try Self.schema("\(kind.name).schema.json")
            #expect(schema["type"] as? String == "object", "\(kind.name)")
        }
    }

    static let sampleSend = TelegramSend(
        telegramID: 1, kind: .system, text: "t", parseMode: .markdown, photoURL: "https://x", broadcastID: 1, marketID: 2, paid: true)

    /// One payload of each kind with every optional field set.
    static let samples: [String: any Encodable & Sendable] = [
        "system.noop": SystemNoop(tag: "t"),
        "outbox.sweep": OutboxSweep(olderThanSeconds: 60),
        "backlogs.sweep": BacklogsSweep(olderThanSeconds: 60),
        "bets.place": BetsPlace(telegramID: 1, username: "u", marketID: 2, outcome: .yes, stake: 3),
        "markets.create": MarketsCreate(title: "t", description: "d", category: .tech, endsAtMillis: 1, promoted: true),
        "markets.resolve": MarketsResolve(marketID: 1, result: .cancelled),
        "markets.notify": MarketsNotify(marketID: 1),
        "missions.progress": MissionsProgress(eventID: "e", event: .dailyActivity, userID: 1, telegramID: 2, day: "2026-01-01"),
        "referrals.claim": ReferralsClaim(telegramID: 1, username: "u", code: "c"),
        "leaderboard.close": LeaderboardClose(period: .week, startsAtMillis: 1, top: 3),
        "telegram.send": sampleSend,
        "telegram.send.results": sampleSend,
        "telegram.send.bulk": sampleSend,
        "broadcast.fanout": BroadcastFanout(broadcastID: 1),
        "broadcast.cancel": BroadcastCancel(broadcastID: 1),
        "broadcast.create": BroadcastCreate(
            request: BroadcastRequest(
                text: "t", parseMode: .html, photoURL: "https://x", target: .user, telegramID: 1, scheduledAtMillis: 1, paid: true)),
    ]

    @Test("each payload schema names exactly the fields its Swift type writes, and requires a subset")
    func payloadFields() throws {
        for kind in try AppKinds.registry().all {
            let name = kind.name.rawValue
            let sample = try #require(Self.samples[name], "no sample payload for \(name)")
            let encoded = try JSONSerialization.jsonObject(with: JSONCoding.encoder.encode(sample)) as? [String: Any]
            let schema = try Self.schema("\(name).schema.json")
            let properties = try #require(schema["properties"] as? [String: Any])
            #expect(Set(encoded?.keys ?? [:].keys) == Set(properties.keys), "\(name)")
            #expect(Set(schema["required"] as? [String] ?? []).isSubset(of: Set(properties.keys)), "\(name)")
            #expect(schema["additionalProperties"] as? Bool == false, "\(name)")
        }
    }

    @Test("TelegramSend's hand-written JSON decodes to the same message")
    func telegramJSON() throws {
        let messages = [
            TelegramSend(telegramID: -100, kind: .betWon, text: "quote \" slash \\ / new\nline\ttab \u{1} “ünï” 🎉 <b>&amp;</b>"),
            TelegramSend(
                telegramID: 1, kind: .broadcast, text: "", parseMode: .markdown, photoURL: "https://x/y?a=\"b\"",
                broadcastID: 9, paid: false),
            TelegramSend(telegramID: 3, kind: .betLost, text: "x", marketID: 77),
        ]
        for m in messages {
            #expect(try JSONCoding.decoder.decode(TelegramSend.self, from: Data(m.jsonBytes())) == m)
            #expect(m.jsonBytes() == Array(try JSONCoding.encoder.encode(m)) || m.text.contains("\u{1}"))
        }
    }
}
