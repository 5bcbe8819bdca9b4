import Foundation
import Jobs
import JobsRedis
import Producers
import TestSupport
import Testing

/// Issue 26, finding 5: a buried producer kept its idempotency key for 24 h, so "resolve again"
/// (or anything that enqueued it again) got the dead job back and its backlog never finished.
@Suite("Producers carried on after they end")
struct ProducerCheckTests {
    func driver(_ kind: String) throws -> any FullJobQueueDriver {
        kind == "redis" ? try TestRedis.driver() : MemoryQueueDriver()
    }

    /// Buries the one job waiting in `queue`, as a worker does after its last attempt.
    func bury(_ driver: any FullJobQueueDriver, _ queue: QueueName) async throws {
        let fetched = try #require(try await driver.fetch(queue: queue, consumer: "w", maxCount: 1, blockFor: .zero).first)
        let error = AttemptError(attempt: fetched.envelope.attempt, at: SystemJobClock().nowMillis(), error: "stuck")
        try await driver.complete([JobCompletion(job: fetched, outcome: .dead(reason: .exhausted, error: error))], queue: queue)
    }

    @Test("a live producer is left alone; a dead one is replaced under a key of its own, once", arguments: ["memory", "redis"])
    func replacesDeadProducer(_ backend: String) async throws {
        let driver = try driver(backend)
        let queue = uniqueQueue()
        try await driver.prepare(queue: queue)
        let kind = JobKind<Tick>("test.producer", queue: queue)
        let client = JobClient(driver: driver)
        let key = "producer:\(UInt64.random(in: 0 ... .max))"
        guard case .started(let first) = try await client.ensureProducer(kind, Tick(at: 1), key: key) else {
            Issue.record("a first producer was not made")
            return
        }
        #expect(try await client.ensureProducer(kind, Tick(at: 1), key: key) == .live(first))
        try await bury(driver, queue)
        // Before: the key still named the dead job, and enqueuing again returned it.
        #expect(try await client.enqueue(kind, Tick(at: 1), options: .idempotent(key)).id == first)
        guard case .replaced(first, let second) = try await client.ensureProducer(kind, Tick(at: 1), key: key) else {
            Issue.record("the dead producer was not replaced")
            return
        }
        #expect(second != first)
        // A second sweep finds the replacement, and makes no other.
        #expect(try await client.ensureProducer(kind, Tick(at: 1), key: key) == .live(second))
        #expect(try await driver.stats(queue: queue).ready == 1)
        // Two more deaths with a budget of one replacement: left to an operator.
        try await bury(driver, queue)
        #expect(try await client.ensureProducer(kind, Tick(at: 1), key: key, replacements: 1) == .exhausted(last: second))
    }
}
