@testable import Game
import FakeTelegram
import Foundation
import Jobs
import Producers
import Telegram
import TestSupport
import Testing
import ThePredKinds

/// telegram.send and broadcasts against the fake Bot API server, through the real libcurl client.
@Suite("Telegram delivery", .enabled(if: TestPostgres.available), .timeLimit(.minutes(2)))
struct TelegramDeliveryTests {
    /// A fixture whose worker sends to a fake server started for the test.
    static func withDelivery(
        fake config: FakeTelegramServer.Configuration = .init(), limits: TelegramLimits = TelegramLimits(), fanoutChunk: Int = 1_000,
        limiter: any SendRateLimiter = MemoryRateLimiter(), clientTimeout: Duration = .seconds(15), claimLease: Duration = .seconds(32),
        _ body: @Sendable (DomainFixture, FakeTelegramServer) async throws -> Void
    ) async throws {
        try await FakeTelegramServer.withRunning(config) { server, port in
            let bot = CurlTelegramClient(
                configuration: .init(
                    apiBase: "http://127.0.0.1:\(port)", token: config.token, connections: 4, timeout: clientTimeout))
            defer { bot.shutdown() }
            var delivery = TelegramDelivery(bot: bot, limiter: limiter, limits: limits)
            delivery.claimLease = claimLease
            let f = try await DomainFixture.make(fanoutChunk: fanoutChunk, telegram: delivery)
            do {
                try await body(f, server)
            } catch {
                try await f.drop()
                throw error
            }
            try await f.drop()
        }
    }

    static func delivery(_ f: DomainFixture, _ id: JobID) async throws -> (status: String, attempts: Int64, error: String?, sent: Bool) {
        let rows = try await f.db.query(
            "SELECT status, attempts, last_error, sent_at IS NOT NULL AS sent FROM telegram_deliveries WHERE job_id = $1",
            [.text(id.rawValue)])
        return (try rows.string(0, "status"), try rows.int(0, "attempts"), rows[0, "last_error"], rows.bool(0, "sent"))
    }

    static func message(_ chat: Int64, _ text: String = "hello <b>you</b>") -> TelegramSend {
        TelegramSend(telegramID: chat, kind: .system, text: text)
    }

    /// Runs a job and returns how it ended: nil for success, else the failure.
    static func outcome(_ f: DomainFixture, _ p: TelegramSend, id: JobID, attempt: Int = 1, key: String? = nil) async -> (any Error)? {
        do {
            try await f.run(TelegramSend.kind, p, id: id, attempt: attempt, idempotencyKey: key)
            return nil
        } catch { return error }
    }

    @Test("a message is sent once and logged SENT, however often its job runs")
    func sentOnce() async throws {
        try await Self.withDelivery { f, server in
            let id = JobID.generate(millis: 1)
            try await f.run(TelegramSend.kind, Self.message(11), id: id)
            try await f.run(TelegramSend.kind, Self.message(11), id: id, deliveries: 2)
            #expect(server.messages(chatID: 11).count == 1)
            #expect(server.messages(chatID: 11).first?.text == "hello <b>you</b>")
            let d = try await Self.delivery(f, id)
            #expect(d.status == "SENT" && d.attempts == 1 && d.sent && d.error == nil)
        }
    }

    @Test("a photo goes as sendPhoto with its caption, Markdown as Markdown")
    func photo() async throws {
        try await Self.withDelivery { f, server in
            let p = TelegramSend(
                telegramID: 12, kind: .broadcast, text: "*look*", parseMode: .markdown, photoURL: "https://cdn.example/p.png")
            try await f.run(TelegramSend.kind, p)
            let m = try #require(server.messages(chatID: 12).first)
            #expect(m.method == "sendPhoto" && m.photo == "https://cdn.example/p.png" && m.text == "*look*" && m.parseMode == "Markdown")
        }
    }

    @Test("403: rejected (final, not a dead letter), and the user is marked unreachable")
    func blocked() async throws {
        var config = FakeTelegramServer.Configuration()
        config.blocked = [13]
        try await Self.withDelivery(fake: config) { f, server in
            _ = try await f.user(telegramID: 13)
            let id = JobID.generate(millis: 1)
            let error = await Self.outcome(f, Self.message(13), id: id)
            #expect((error as? JobFailure)?.isRejected == true, "a user who blocked the bot is an expected refusal, not a dead letter")
            #expect("\(error!)".contains("blocked"))
            let d = try await Self.delivery(f, id)
            #expect(d.status == "PERMANENT_FAILURE" && d.attempts == 1 && d.error?.hasPrefix("403") == true)
            #expect(try await f.string("SELECT unreachable::text FROM users WHERE telegram_id = 13") == "true")
            #expect(server.messages().isEmpty)
        }
    }

    @Test("400: permanent with Telegram's description (chat not found, bad HTML)")
    func badRequest() async throws {
        var config = FakeTelegramServer.Configuration()
        config.unknownChats = [14]
        try await Self.withDelivery(fake: config) { f, server in
            let missing = JobID.generate(millis: 1)
            let e1 = await Self.outcome(f, Self.message(14), id: missing)
            #expect((e1 as? JobFailure)?.isPermanent == true)
            #expect(try await Self.delivery(f, missing).error?.contains("chat not found") == true)
            let html = JobID.generate(millis: 1)
            let e2 = await Self.outcome(f, Self.message(15, "<b>unclosed"), id: html)
            #expect((e2 as? JobFailure)?.isPermanent == true)
            let d = try await Self.delivery(f, html)
            #expect(d.status == "PERMANENT_FAILURE" && d.error?.contains("can't parse entities") == true)
            #expect(server.messages().isEmpty)
        }
    }

    @Test("5xx: retried, each try counted; the last attempt ends PERMANENT_FAILURE")
    func serverErrors() async throws {
        try await Self.withDelivery { f, server in
            let id = JobID.generate(millis: 1)
            server.failNext(count: 1, status: 502)
            let first = await Self.outcome(f, Self.message(16), id: id)
            #expect(first != nil && (first as? JobFailure) == nil, "a plain error: the worker retries with backoff")
            var d = try await Self.delivery(f, id)
            #expect(d.status == "FAILED" && d.attempts == 1 && d.error?.hasPrefix("Telegram 502") == true)
            try await f.run(TelegramSend.kind, Self.message(16), id: id, attempt: 2)
            d = try await Self.delivery(f, id)
            #expect(d.status == "SENT" && d.attempts == 2)

            let doomed = JobID.generate(millis: 1)
            server.failNext(count: 1, status: 500)
            let last = await Self.outcome(f, Self.message(17), id: doomed, attempt: TelegramSend.kind.retry.maxAttempts)
            #expect((last as? JobFailure)?.isPermanent == true)
            d = try await Self.delivery(f, doomed)
            #expect(d.status == "PERMANENT_FAILURE" && d.error?.hasPrefix("gave up after 5 attempts") == true)
            #expect(server.messages(chatID: 17).isEmpty)
        }
    }

    @Test("429: the fleet pauses for retry_after, and the job snoozes without using an attempt")
    func tooManyRequests() async throws {
        var config = FakeTelegramServer.Configuration()
        config.globalPerSecond = 2
        let limits = BroadcastTests.paidLimits  // faster than the fake allows, to provoke its 429
        let limiter = MemoryRateLimiter()
        try await Self.withDelivery(fake: config, limits: limits, limiter: limiter) { f, server in
            try await f.run(TelegramSend.kind, Self.message(21))
            try await f.run(TelegramSend.kind, Self.message(22))
            let id = JobID.generate(millis: 1)
            let error = await Self.outcome(f, Self.message(23), id: id)
            let failure = try #require(error as? JobFailure)
            #expect(failure.snoozeDelay.map { $0 >= .seconds(1) } == true)
            let d = try await Self.delivery(f, id)
            #expect(d.status == "SENDING" && d.attempts == 0 && d.error?.hasPrefix("429") == true)
            // Everyone now holds off: the next reservation is refused for about retry_after.
            let next = try await limiter.reserve(limits.lanes(chatID: 24, paid: false), horizon: .seconds(10))
            #expect(!next.granted && next.wait > .milliseconds(500))
            #expect(server.stats().tooManyRequests == 1)
        }
    }

    /// The counters are process-wide: run serially (`ops/test` passes `--no-parallel`), or other
    /// tests' sends land in the same figures.
    @Test("each send is counted once, by lane, class and result")
    func counted() async throws {
        let metrics = testMetrics
        func count(_ result: String) -> Int64 {
            metrics.counterTotal(
                label: "thepred_telegram_sends_total", dimensions: [("lane", "free"), ("class", "interactive"), ("result", result)])
        }
        let before = (sent: count("sent"), blocked: count("blocked"), refused: count("refused"))
        var config = FakeTelegramServer.Configuration()
        config.blocked = [13]
        config.unknownChats = [14]
        try await Self.withDelivery(fake: config) { f, _ in
            _ = try await f.user(telegramID: 13)
            let id = JobID.generate(millis: 1)
            try await f.run(TelegramSend.kind, Self.message(31), id: id)
            // A second run of the same job finds it SENT and sends nothing: not counted again.
            try await f.run(TelegramSend.kind, Self.message(31), id: id, deliveries: 2)
            _ = await Self.outcome(f, Self.message(13), id: JobID.generate(millis: 2))
            _ = await Self.outcome(f, Self.message(14), id: JobID.generate(millis: 3))
        }
        #expect(count("sent") - before.sent == 1)
        #expect(count("blocked") - before.blocked == 1)
        #expect(count("refused") - before.refused == 1)
        #expect(
            try metrics.expectTimer("thepred_telegram_limiter_wait_seconds", [("lane", "free"), ("class", "interactive")]).values.count >= 1
        )
    }
}
