import Foundation
import Telegram
import Testing

/// The client never sends a request its caller no longer waits for, or one that could be
/// answered after the caller's claim on the message ends.
@Suite("CurlTelegramClient deadlines", .timeLimit(.minutes(1)))
struct CurlDeadlineTests {
    @Test("a request still queued when its task is cancelled is dropped, never sent")
    func cancelQueued() async throws {
        let server = try LocalHTTPServer { _ in
            .init(status: 200, body: #"{"ok":true,"result":{"message_id":1}}"#, delay: .milliseconds(600))
        }
        defer { server.stop() }
        let client = CurlTelegramClientTests.client(port: server.port, connections: 1)
        defer { client.shutdown() }
        let first = Task { try await client.send(TelegramOutgoing(chatID: 1, text: "first")) }
        try await Task.sleep(for: .milliseconds(150))
        let second = Task { try await client.send(TelegramOutgoing(chatID: 2, text: "second")) }
        try await Task.sleep(for: .milliseconds(50))
        let began = ContinuousClock.now
        second.cancel()
        await #expect(throws: CancellationError.self) { try await second.value }
        #expect(ContinuousClock.now - began < .milliseconds(300), "not after the request ahead of it")
        #expect(try await first.value.ok)
        try await Task.sleep(for: .milliseconds(100))
        #expect(server.requests.count == 1)
    }

    @Test("a request whose timeout could run past its answerBy is not started")
    func answerBy() async throws {
        let server = try LocalHTTPServer { _ in .init(status: 200, body: #"{"ok":true,"result":{"message_id":1}}"#) }
        defer { server.stop() }
        let client = CurlTelegramClientTests.client(port: server.port, timeout: .seconds(5))
        defer { client.shutdown() }
        let late = try await #require(throws: TelegramTransportError.self) {
            try await client.send(TelegramOutgoing(chatID: 1, text: "x", answerBy: .now + .seconds(2)))
        }
        #expect(late.code == .notSent && !late.mayHaveArrived)
        #expect(server.requests.isEmpty)
        #expect(try await client.send(TelegramOutgoing(chatID: 1, text: "x", answerBy: .now + .seconds(6))).ok)
    }
}
