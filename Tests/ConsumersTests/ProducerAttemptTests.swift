import Foundation
import Jobs
import JobsRedis
import JobsWorker
import Producers
import Postgres
import Synchronization
import TestSupport
import Testing

/// Issue 26, finding 5: producers (`broadcast.fanout`, `markets.notify`) run for hours in short
/// runs, snoozing while their queues drain, and a few blips over those hours must not bury them.
@Suite("Long-lived producers' attempts")
struct ProducerAttemptTests {
    /// Outage waits were bounded by all snoozes: after 600 of them (10 minutes of a producer
    /// waiting for its queue) every outage used an attempt again, and a failover buried it.
    @Test("a job that snoozed many times still waits out an outage without using an attempt")
    func snoozesDoNotSpendOutageWaits() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.producer", queue: queue, retry: .exponentialJitter(maxAttempts: 2, base: .milliseconds(10)))
        let runs = Mutex(0)
        var handlers = JobHandlers()
        try handlers.register(kind) { _, context in
            let n = runs.withLock { n in
                n += 1
                return n
            }
            #expect(context.attempt == 1, "an outage used an attempt")
            // Waits for its queue five times, then meets an outage for three runs, then finishes.
            if n <= 5 { throw JobFailure.snooze(for: .zero, reason: "the queue holds enough") }
            if n <= 8 { throw PostgresError(code: .connection, message: "server closed the connection unexpectedly", sqlState: nil) }
        }
        var c = config(queue)
        c.outageWait = .milliseconds(10) ... .milliseconds(20)
        c.outageSnoozeLimit = 5
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c)) {
            _ = try await driver.promoteDue(queue: queue, limit: 10)
            let status = try await driver.job(id, queue: queue)?.status
            return status == .succeeded || status == .dead
        }
        #expect(try await driver.job(id, queue: queue)?.status == .succeeded)
        #expect(runs.withLock { $0 } == 9)
    }

    @Test("a run that failed after a checkpoint uses no attempt; one that failed before it does")
    func checkpointKeepsAttempts() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.cursor", queue: queue, retry: .exponentialJitter(maxAttempts: 3, base: .milliseconds(10)))
        let runs = Mutex(0)
        let attempts = Mutex<[Int]>([])
        var handlers = JobHandlers()
        try handlers.register(kind) { _, context in
            let n = runs.withLock { n in
                n += 1
                return n
            }
            attempts.withLock { $0.append(context.attempt) }
            // Ten runs each move the cursor, then fail (more failures than the 3 attempts allow).
            if n <= 10 {
                context.checkpointed()
                throw JobsError(.conflict, "a blip after chunk \(n)")
            }
            // Then runs that get nowhere: these use attempts, and the third buries the job.
            throw JobsError(.conflict, "stuck")
        }
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: config(queue))) {
            _ = try await driver.promoteDue(queue: queue, limit: 10)
            return try await driver.job(id, queue: queue)?.status == .dead
        }
        #expect(attempts.withLock { $0 } == Array(repeating: 1, count: 11) + [2, 3])
        let dead = try #require(try await driver.deadLetters(queue: queue, filter: .init()).first)
        #expect(dead.reason == .exhausted)
    }
}
