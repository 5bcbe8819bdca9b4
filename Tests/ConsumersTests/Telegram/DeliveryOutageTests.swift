@testable import Game
import FakeTelegram
import Foundation
import Jobs
@testable import Postgres
import Synchronization
import Telegram
import TestSupport
import Testing
import ThePredKinds

/// A database whose writes of one delivery status fail a few times, as when PostgreSQL restarts
/// between a send and its log write.
final class FailingStatusWrites: PostgresClient {
    let inner: any PostgresClient
    let status: String
    let left: Mutex<Int>

    init(_ inner: any PostgresClient, failing status: String, times: Int) {
        self.inner = inner
        self.status = status
        left = Mutex(times)
    }

    func query(_ sql: String, _ parameters: [PostgresValue]) async throws -> PostgresRows {
        let names = parameters.contains { if case .text(let t) = $0 { return t == status } else { return false } }
        if names,
            left.withLock({ n in
                defer { n -= 1 }; return n > 0
            })
        {
            throw PostgresError(code: .connection, message: "FATAL: terminating connection due to administrator command", sqlState: nil)
        }
        return try await inner.query(sql, parameters)
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection.Transaction) throws -> T) async throws -> T {
        try await inner.transaction(body)
    }
}

@Suite("Telegram delivery under a PostgreSQL outage", .enabled(if: TestPostgres.available), .timeLimit(.minutes(2)))
struct DeliveryOutageTests {
    typealias T = TelegramDeliveryTests

    /// Found by ops/chaos (RELIABILITY.md): after a PostgreSQL restart the AMBIGUOUS write failed
    /// once, the job was retried as transient, and the retry sent the message a second time.
    @Test("an AMBIGUOUS outcome is written through a brief outage, and the message is not sent again")
    func ambiguousThroughOutage() async throws {
        var config = FakeTelegramServer.Configuration()
        config.slowRate = 1
        config.slowDelay = .milliseconds(1_500)
        let token = config.token
        try await FakeTelegramServer.withRunning(config) { server, port in
            let bot = CurlTelegramClient(
                configuration: .init(
                    apiBase: "http://127.0.0.1:\(port)", token: token, connections: 2, timeout: .milliseconds(700)))
            defer { bot.shutdown() }
            let f = try await DomainFixture.make()
            let db = FailingStatusWrites(f.db, failing: "AMBIGUOUS", times: 3)
            let handler = TelegramSendHandler(db: db, delivery: TelegramDelivery(bot: bot, limiter: MemoryRateLimiter()))
            let id = JobID.generate(millis: 1)
            let p = T.message(36)
            var first: (any Error)?
            do { try await handler.handle(p, f.context(TelegramSend.kind, id: id)) } catch { first = error }
            #expect((first as? JobFailure)?.isRejected == true, "\(String(describing: first))")
            #expect(try await T.delivery(f, id).status == "AMBIGUOUS")
            // A retry (had the job been retried) finds the outcome and does not ask Telegram again.
            try await handler.handle(p, f.context(TelegramSend.kind, id: id, attempt: 2))
            try await Task.sleep(for: .seconds(2))
            #expect(server.messages(chatID: 36).count == 1)
            try await f.drop()
        }
    }

    /// Issue 26, finding 9: an AMBIGUOUS outcome whose write never landed was remembered as if
    /// Telegram had accepted it, and the job's next run wrote it SENT.
    @Test("an AMBIGUOUS outcome that could not be written is written AMBIGUOUS later, never SENT")
    func ambiguousRememberedAsAmbiguous() async throws {
        var config = FakeTelegramServer.Configuration()
        config.slowRate = 1
        config.slowDelay = .milliseconds(1_500)
        let token = config.token
        try await FakeTelegramServer.withRunning(config) { server, port in
            let bot = CurlTelegramClient(
                configuration: .init(
                    apiBase: "http://127.0.0.1:\(port)", token: token, connections: 2, timeout: .milliseconds(700)))
            defer { bot.shutdown() }
            let f = try await DomainFixture.make()
            // PostgreSQL away for longer than the handler retries its AMBIGUOUS write.
            let db = FailingStatusWrites(f.db, failing: "AMBIGUOUS", times: 1_000)
            var delivery = TelegramDelivery(bot: bot, limiter: MemoryRateLimiter())
            delivery.sentWriteRetry = .milliseconds(300)
            let handler = TelegramSendHandler(db: db, delivery: delivery)
            let id = JobID.generate(millis: 1)
            let p = T.message(37)
            var first: (any Error)?
            do { try await handler.handle(p, f.context(TelegramSend.kind, id: id)) } catch { first = error }
            #expect((first as? JobFailure)?.isPermanent == true, "\(String(describing: first))")
            // PostgreSQL is back; the job runs again in this process.
            db.left.withLock { $0 = 0 }
            var second: (any Error)?
            do { try await handler.handle(p, f.context(TelegramSend.kind, id: id, attempt: 2)) } catch { second = error }
            #expect((second as? JobFailure)?.isRejected == true, "\(String(describing: second))")
            #expect(try await T.delivery(f, id).status == "AMBIGUOUS")
            try await Task.sleep(for: .seconds(2))
            #expect(server.messages(chatID: 37).count == 1, "not asked again")
            try await f.drop()
        }
    }
}
