import Foundation
import Testing

@testable import FakeTelegram

/// `gateway_after_record_rate`: a message Telegram has, answered 502 as if the proxy in front
/// lost the answer. ops/chaos uses it to make duplicates it can tell from unexplained ones.
@Suite struct GatewayAfterRecordTests {
    typealias Config = FakeTelegramServer.Configuration

    @Test func recordsThenAnswers502AndMarksTheMessage() async throws {
        try await FakeTelegramServer.withRunning(Config(perChatPerSecond: 100)) { (server, port) async throws in
            let client = BotClient(port: port)
            let (patched, config) = try await client.control("POST", "/fake/config", json: #"{"gateway_after_record_rate":1}"#)
            #expect(patched == 200 && (config as? [String: Any])?["gateway_after_record_rate"] as? NSNumber == 1)
            #expect(server.configuration().gatewayAfterRecordRate == 1)

            let lost = try await client.send(chat: 1, "<b>one</b>")
            // The page injectedFailure(502) gives, as nginx sends it.
            #expect(lost.status == 502 && lost.ok == nil && lost.contentType == "text/html")
            #expect(lost.body.contains("<center><h1>502 Bad Gateway</h1></center>") && lost.body.contains("nginx"))
            let photo = try await client.send(chat: 2, "two", photo: "https://example.com/2.png", paid: true)
            #expect(photo.status == 502)

            _ = try await client.control("POST", "/fake/config", json: #"{"gateway_after_record_rate":0}"#)
            #expect(try await client.send(chat: 1, "<b>one</b>").status == 200)

            #expect(server.messages().map(\.answeredStatus) == [502, 502, nil])
            #expect(server.messages().map(\.chatID) == [1, 2, 1])
            let stats = server.stats()
            #expect(stats.accepted == 3 && stats.paidAccepted == 1 && stats.gatewayAfterRecord == 2)
            #expect(stats.serverErrors == 0 && stats.total == 3)

            let listed = try #require(try await client.control("GET", "/fake/messages").1 as? [[String: Any]])
            #expect(listed.map { ($0["answered_status"] as? NSNumber)?.intValue } == [502, 502, nil])
            // Only a marked message carries the field.
            #expect(listed[2].keys.contains("answered_status") == false)
            let statsBody = try await client.request("GET", "/fake/stats")
            #expect(statsBody.body.contains(#""gateway_after_record":2"#))
            let decoded = try JSONDecoder().decode(FakeTelegramServer.Stats.self, from: Data(statsBody.body.utf8))
            #expect(decoded == stats)
        }
    }

    @Test func refusalsStayRefusalsAndAreNotRecorded() async throws {
        let config = Config(blocked: [42], gatewayAfterRecordRate: 1)
        try await FakeTelegramServer.withRunning(config) { (server, port) async throws in
            let client = BotClient(port: port)
            #expect(try await client.send(chat: 42, "hi").isRefusal(403, "Forbidden: bot was blocked by the user"))
            #expect(try await client.send(chat: 1, "<b>unclosed").status == 400)
            #expect(try await client.send(chat: 1, "hi").status == 502)
            // Recorded, so it counts against the chat's flood window as an accepted message does.
            #expect(try await client.send(chat: 1, "again").status == 429)
            #expect(server.messages().map(\.text) == ["hi"])
            #expect(server.stats().gatewayAfterRecord == 1 && server.stats().accepted == 1)
        }
    }

    @Test func thePatchChecksTheRate() async throws {
        try await FakeTelegramServer.withRunning { (server, port) async throws in
            let client = BotClient(port: port)
            for bad in [
                #"{"gateway_after_record_rate":1.5}"#, #"{"gateway_after_record_rate":-0.1}"#, #"{"gateway_after_record_rate":"x"}"#,
            ] {
                #expect(try await client.control("POST", "/fake/config", json: bad).0 == 400)
            }
            #expect(server.configuration().gatewayAfterRecordRate == 0)
            server.setGatewayAfterRecordRate(7)
            #expect(server.configuration().gatewayAfterRecordRate == 1)
            server.setGatewayAfterRecordRate(0.25)
            let body = try await client.request("GET", "/fake/config").body
            #expect(body.contains(#""gateway_after_record_rate":0.25"#))
        }
    }

    @Test func theStateMarksAboutTheRateAndCountsEach() {
        var state = FakeTelegramState(configuration: Config(globalPerSecond: 10_000, perChatPerSecond: 10))
        state.configuration.gatewayAfterRecordRate = 0.5
        let t0 = ContinuousClock.now
        var marked = 0
        for chat in Int64(1)...2000 {
            let request = SendRequest(method: .sendMessage, chatID: chat, text: "hi", photo: nil, parseMode: nil, paid: false)
            guard case .success(let message) = state.send(request, now: t0, unixMillis: 0) else {
                Issue.record("refused chat \(chat)")
                return
            }
            if message.answeredStatus == 502 { marked += 1 }
        }
        #expect(state.stats.gatewayAfterRecord == marked && state.stats.accepted == 2000)
        #expect((800...1200).contains(marked))
        #expect(state.messages.filter { $0.answeredStatus == 502 }.count == marked)
    }
}
