import Foundation
import Jobs
import JobsRedis
import TestSupport
import Testing

/// A redis-server of the test's own, so it can be stopped and started again.
final class OwnRedis: @unchecked Sendable {
    let port = Int.random(in: 30_000...40_000)
    var process: Process?

    func start() throws { process = try TestRedis.startRedisServer(port: port) }

    /// Kills the server. SIGKILL, because children of the test runner may inherit a blocked
    /// SIGTERM; it is also the harshest restart a client can meet.
    func stop() async throws {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        try await waitForExit(process)
        self.process = nil
    }

    deinit {
        if let process { kill(process.processIdentifier, SIGKILL) }
    }
}

@Suite("Redis connection recovery")
struct ReconnectTests {
    @Test("the connection comes back after Redis restarts, and lost scripts are loaded again")
    func reconnects() async throws {
        let server = OwnRedis()
        try server.start()
        let config = RedisQueueDriver.Configuration(redis: try RedisConfiguration(url: "redis://127.0.0.1:\(server.port)/0"))
        let driver = RedisQueueDriver(configuration: config)
        #expect(try await eventually { (try? await driver.ping()) != nil })
        let queue = uniqueQueue()
        try await driver.prepare(queue: queue)
        let job = { JobEnvelope(id: .generate(millis: 1), kind: "k", payload: Array("{}".utf8), enqueuedAt: 1) }
        _ = try await driver.enqueue([job()], queue: queue)

        try await server.stop()
        let down = await #expect(throws: RedisError.self) { try await driver.ping() }
        #expect(down?.code == .connection)
        // Callers are answered at once while the connection backs off, never left hanging.
        let start = ContinuousClock.now
        _ = try? await driver.ping()
        #expect(ContinuousClock.now - start < .seconds(3))

        try server.start()
        #expect(try await eventually(timeout: .seconds(10)) { (try? await driver.ping()) != nil })
        // The new server has neither the scripts nor the group: both come back on their own.
        try await driver.prepare(queue: queue)
        _ = try await driver.enqueue([job()], queue: queue)
        #expect(try await driver.fetch(queue: queue, consumer: "c", maxCount: 10, blockFor: .milliseconds(10)).count == 1)
        try await server.stop()
    }

    @Test("SCRIPT FLUSH does not break the driver")
    func scriptFlush() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue()
        try await driver.prepare(queue: queue)
        let job = { JobEnvelope(id: .generate(millis: 1), kind: "k", payload: Array("{}".utf8), enqueuedAt: 1) }
        _ = try await driver.enqueue([job()], queue: queue)
        try await driver.connection.send("SCRIPT", "FLUSH")
        _ = try await driver.enqueue([job(), job()], queue: queue)
        #expect(try await driver.fetch(queue: queue, consumer: "c", maxCount: 10, blockFor: .milliseconds(10)).count == 3)
    }
}
