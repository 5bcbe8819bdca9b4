import Foundation
import Postgres
import TestSupport
import Testing

/// PostgreSQL paused, blackholed or gone silent (issue 26, finding 3): no call may wait for ever
/// to connect, and no cancel may block the thread that cancels.
@Suite("PostgreSQL outages", .timeLimit(.minutes(1)))
struct PostgresOutageTests {
    @Test("a server that accepts and never answers fails the connect within the default connect_timeout")
    func connectTimeout() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        let db = PostgresConnection(url: "postgres://nobody@127.0.0.1:\(silent.port)/x?sslmode=disable&gssencmode=disable")
        defer { db.close() }
        let start = ContinuousClock.now
        let error = try await #require(throws: PostgresError.self) { try await db.query("SELECT 1") }
        let elapsed = ContinuousClock.now - start
        #expect(error.code == .connection, "\(error)")
        #expect(elapsed >= .seconds(4) && elapsed < .seconds(15), "gave up after \(elapsed)")
    }

    @Test("two calls cancelled against a hung server: the cancels return at once and the pool runs on")
    func cancelsDoNotBlock() async throws {
        let server = try HungPostgres()
        let connections = (0..<2).map { _ in PostgresConnection(url: server.url) }
        let calls = connections.map { db in Task { try await db.query("SELECT pg_sleep(60)") } }
        var waited = Duration.zero
        while server.calls < 2 && waited < .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
            waited += .milliseconds(20)
        }
        #expect(server.calls == 2, "both calls reached the server")
        // The cancellation handlers run right here, on a cooperative-pool thread.
        let start = ContinuousClock.now
        for call in calls { call.cancel() }
        let cancelling = ContinuousClock.now - start
        #expect(cancelling < .milliseconds(500), "cancelling took \(cancelling)")
        // Both pool threads are free: tasks still run while the cancels wait on the server.
        let ran = await withTaskGroup(of: Int.self) { group in
            for i in 0..<4 { group.addTask { i } }
            return await group.reduce(0, +)
        }
        #expect(ran == 6)
        waited = .zero
        while server.cancels < 2 && waited < .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
            waited += .milliseconds(20)
        }
        #expect(server.cancels == 2, "each call's cancel request reached the server")
        // The server goes away: the calls end (cancelled), and nothing waits on it any more.
        server.stop()
        for call in calls { await #expect(throws: CancellationError.self) { try await call.value } }
        for db in connections { db.close() }
    }
}
