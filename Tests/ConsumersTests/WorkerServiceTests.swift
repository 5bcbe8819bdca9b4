import Foundation
import Jobs
import JobsWorker
import Logging
import Producers
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

struct Work: Codable, Sendable {
    var n: Int
    var sleepMillis: Int = 0
}

/// Counts how often each job ran.
final class RunLog: Sendable {
    let runs = Mutex<[Int: Int]>([:])
    func record(_ n: Int) { runs.withLock { $0[n, default: 0] += 1 } }
    var counts: [Int: Int] { runs.withLock { $0 } }
    var total: Int { runs.withLock { $0.values.reduce(0, +) } }
}

func config(_ queue: QueueName, concurrency: Int = 4) -> WorkerService.Configuration {
    var c = WorkerService.Configuration(queues: [queue])
    c.concurrency = concurrency
    c.blockFor = .milliseconds(50)
    c.heartbeatInterval = .milliseconds(300)
    return c
}

/// Runs the worker in a service group until `until` holds, then shuts it down gracefully.
func runWorker(
    _ worker: WorkerService, timeout: Duration = .seconds(10), until: @escaping @Sendable () async throws -> Bool
) async throws {
    let group = ServiceGroup(configuration: .init(services: [worker], logger: Logger(label: "test")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        let reached = try await eventually(timeout: timeout, until)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        #expect(reached)
    }
}

@Suite("Worker")
struct WorkerServiceTests {
    @Test("graceful shutdown loses nothing and runs nothing twice")
    func gracefulShutdown() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue("drain")
        let kind = JobKind<Work>("test.work", queue: queue, timeout: .seconds(10))
        let log = RunLog()
        var handlers = JobHandlers()
        try handlers.register(kind) { payload, _ in
            try await Task.sleep(for: .milliseconds(payload.sleepMillis))
            log.record(payload.n)
        }
        let total = 300
        try await driver.prepare(queue: queue)
        try await JobClient(driver: driver).enqueue(kind, (0..<total).map { Work(n: $0, sleepMillis: 20) })

        // The first worker is told to stop while it holds jobs in flight.
        var first = config(queue, concurrency: 8)
        first.consumerName = "first"
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: first)) { log.total >= 60 }
        let afterFirst = log.total
        #expect(afterFirst < total)
        // Everything it started, it finished and acked: nothing is left pending for it.
        #expect(try await driver.stats(queue: queue).inFlight == 0)

        var second = config(queue, concurrency: 8)
        second.consumerName = "second"
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: second)) {
            let s = try await driver.stats(queue: queue)
            return log.total == total && s.ready == 0 && s.inFlight == 0
        }
        #expect(log.counts.count == total)
        #expect(log.counts.values.allSatisfy { $0 == 1 })
        #expect(try await driver.deadLetters(queue: queue, filter: .init()).isEmpty)
    }

    @Test("a transient error is retried with backoff until the dead-letter queue, with every error kept")
    func retriesThenDies() async throws {
        let clock = ManualJobClock(millis: SystemJobClock().nowMillis())
        let driver = MemoryQueueDriver(clock: clock)
        let queue = uniqueQueue()
        let kind = JobKind<Work>(
            "test.flaky", queue: queue, retry: .exponentialJitter(maxAttempts: 3, base: .seconds(10), maxBackoff: .seconds(60)))
        let attempts = Mutex<[Int]>([])
        var handlers = JobHandlers()
        try handlers.register(kind) { _, context in
            attempts.withLock { $0.append(context.attempt) }
            throw TestFailure("upstream 503")
        }
        let id = try await JobClient(driver: driver, clock: clock).enqueue(kind, Work(n: 1)).id
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config(queue), clock: clock)
        try await runWorker(worker) {
            if try await driver.job(id, queue: queue)?.status == .retrying {
                let record = try await driver.job(id, queue: queue)!
                let wait = record.dueAt! - clock.nowMillis()
                // Attempt n waits within [base*2^(n-1)/2, base*2^(n-1)].
                let n = Int64(attempts.withLock { $0.count })
                let full = 10_000 * (Int64(1) << (n - 1))
                #expect(wait >= full / 2 && wait <= full)
                clock.advance(by: .milliseconds(wait))
                _ = try await driver.promoteDue(queue: queue, limit: 10)
            }
            return try await driver.job(id, queue: queue)?.status == .dead
        }
        #expect(attempts.withLock { $0 } == [1, 2, 3])
        let dead = try #require(try await driver.deadLetters(queue: queue, filter: .init()).first)
        #expect(dead.reason == .exhausted)
        #expect(dead.envelope?.errors.map(\.attempt) == [1, 2, 3])
        #expect(dead.envelope?.errors.allSatisfy { $0.error.contains("upstream 503") } == true)
    }

    @Test("permanent, snooze and unknown kinds end where they should")
    func outcomes() async throws {
        let clock = ManualJobClock(millis: SystemJobClock().nowMillis())
        let driver = MemoryQueueDriver(clock: clock)
        let queue = uniqueQueue()
        let permanent = JobKind<Work>("test.permanent", queue: queue)
        let snoozing = JobKind<Work>("test.snooze", queue: queue)
        let unknown = JobKind<Work>("test.unknown", queue: queue)
        let snoozes = Mutex(0)
        var handlers = JobHandlers()
        try handlers.register(permanent) { _, _ in throw JobFailure.permanent("market closed") }
        try handlers.register(snoozing) { _, context in
            snoozes.withLock { $0 += 1 }
            #expect(context.attempt == 1)
            if snoozes.withLock({ $0 }) == 1 { throw JobFailure.snooze(for: .seconds(30), reason: "429") }
        }
        let client = JobClient(driver: driver, clock: clock)
        let p = try await client.enqueue(permanent, Work(n: 1)).id
        let s = try await client.enqueue(snoozing, Work(n: 2)).id
        let u = try await client.enqueue(unknown, Work(n: 3)).id
        _ = try await driver.enqueue(
            [JobEnvelope(id: .generate(millis: 1), kind: "test.snooze", payload: Array("not json".utf8), enqueuedAt: 1)], queue: queue)
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config(queue), clock: clock)
        try await runWorker(worker) {
            if try await driver.job(s, queue: queue)?.status == .scheduled {
                clock.advance(by: .seconds(30))
                _ = try await driver.promoteDue(queue: queue, limit: 10)
            }
            let done = try await driver.job(s, queue: queue)?.status == .succeeded
            let dead = try await driver.deadLetters(queue: queue, filter: .init()).count
            return done && dead == 3
        }
        let dead = try await driver.deadLetters(queue: queue, filter: .init())
        #expect(dead.first { $0.jobID == p.rawValue }?.reason == .permanent)
        #expect(dead.first { $0.jobID == p.rawValue }?.message == "market closed")
        #expect(dead.first { $0.jobID == u.rawValue }?.reason == .unknownKind)
        #expect(dead.contains { $0.message.contains("payload does not decode") })
        #expect(snoozes.withLock { $0 } == 2)
    }

    @Test("one slot shared by two queues serves both and still shuts down")
    func twoQueuesOneSlot() async throws {
        let driver = MemoryQueueDriver()
        let (a, b, log, handlers) = try twoQueues(sleepMillis: 5)
        let client = JobClient(driver: driver)
        try await client.enqueue(JobKind<Work>("test.a", queue: a), (0..<20).map { Work(n: $0) })
        try await client.enqueue(JobKind<Work>("test.b", queue: b), (20..<40).map { Work(n: $0) })
        var c = WorkerService.Configuration(queues: [a, b])
        c.concurrency = 1
        c.blockFor = .milliseconds(20)
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c)) { log.total == 40 }
        #expect(log.counts.count == 40)
    }

    @Test("a running worker reclaims a crashed consumer's jobs")
    func reclaimsCrashedConsumer() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue("crash")
        let kind = JobKind<Work>("test.crash", queue: queue)
        let log = RunLog()
        var handlers = JobHandlers()
        try handlers.register(kind) { p, context in
            #expect(context.deliveries == 2)
            log.record(p.n)
        }
        try await driver.prepare(queue: queue)
        try await JobClient(driver: driver).enqueue(kind, (0..<5).map { Work(n: $0) })
        // A consumer takes every job and dies without a word.
        #expect(try await driver.fetch(queue: queue, consumer: "crashed", maxCount: 10, blockFor: .milliseconds(50)).count == 5)
        var c = config(queue, concurrency: 8)
        c.visibilityTimeout = .milliseconds(400)
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c)) { log.total == 5 }
        #expect(try await driver.stats(queue: queue).inFlight == 0)
    }

    @Test("a busy worker takes over all of a crashed consumer's jobs as its slots free up, not one per heartbeat")
    func reclaimsWhileBusy() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue("busy-crash")
        let kind = JobKind<Work>("test.busy-crash", queue: queue)
        let log = RunLog()
        var handlers = JobHandlers()
        try handlers.register(kind) { p, _ in
            try await Task.sleep(for: .milliseconds(p.sleepMillis))
            log.record(p.n)
        }
        try await driver.prepare(queue: queue)
        let client = JobClient(driver: driver)
        // A consumer takes 20 jobs and dies; then new work keeps the worker's two slots busy.
        try await client.enqueue(kind, (0..<20).map { Work(n: $0, sleepMillis: 20) })
        #expect(try await driver.fetch(queue: queue, consumer: "crashed", maxCount: 20, blockFor: .milliseconds(50)).count == 20)
        try await client.enqueue(kind, (100..<140).map { Work(n: $0, sleepMillis: 20) })
        var c = config(queue, concurrency: 2)
        c.visibilityTimeout = .milliseconds(300)
        c.heartbeatInterval = .seconds(5)  // a third of the visibility timeout applies: 100 ms
        let started = ContinuousClock.now
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c)) {
            (0..<20).allSatisfy { log.counts[$0] != nil }
        }
        // 60 jobs of 20 ms on two slots take about 0.6 s; one reclaimed job per heartbeat would take 2 s.
        #expect(ContinuousClock.now - started < .seconds(1.8))
        #expect(log.counts.values.allSatisfy { $0 == 1 }, "nothing ran twice")
    }

    @Test("jobs of two queues with the same stream entry ids all run")
    func entryIDsCollideAcrossQueues() async throws {
        let clock = ManualJobClock()
        let driver = MemoryQueueDriver(clock: clock)
        let (a, b, log, handlers) = try twoQueues(sleepMillis: 20)
        let client = JobClient(driver: driver, clock: clock)
        let ids = try await client.enqueue(JobKind<Work>("test.a", queue: a), (0..<10).map { Work(n: $0) })
        try await client.enqueue(JobKind<Work>("test.b", queue: b), (10..<20).map { Work(n: $0) })
        let sample = try #require(try await driver.job(ids[0].id, queue: a))
        #expect(sample.status == .queued)
        var c = WorkerService.Configuration(queues: [a, b])
        c.concurrency = 20
        c.blockFor = .milliseconds(20)
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c, clock: clock)) { log.total == 20 }
        #expect(log.counts.count == 20)
        #expect(log.counts.values.allSatisfy { $0 == 1 })
    }

    @Test("a job past its timeout counts as a transient failure")
    func timeoutIsTransient() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.slow", queue: queue, retry: .fixed(maxAttempts: 2, delay: .seconds(60)), timeout: .milliseconds(200))
        var handlers = JobHandlers()
        try handlers.register(kind) { _, _ in try await Task.sleep(for: .seconds(5)) }
        try await driver.prepare(queue: queue)
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config(queue))
        try await runWorker(worker) { try await driver.job(id, queue: queue)?.status == .retrying }
        let record = try #require(try await driver.job(id, queue: queue))
        #expect(record.lastError?.contains("timed out") == true)
        #expect(record.attempt == 2)
    }

    @Test("the worker registers itself and lists what it holds")
    func heartbeat() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.hold", queue: queue)
        var handlers = JobHandlers()
        try handlers.register(kind) { p, _ in try await Task.sleep(for: .milliseconds(p.sleepMillis)) }
        try await driver.prepare(queue: queue)
        try await JobClient(driver: driver).enqueue(kind, [Work(n: 1, sleepMillis: 1500), Work(n: 2, sleepMillis: 1500)])
        var c = config(queue)
        c.consumerName = "holder"
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c)) {
            let consumers = try await driver.consumers(queue: queue)
            return consumers.first?.info.name == "holder" && consumers.first?.pending == 2 && consumers.first?.info.inFlight == 2
        }
        // A clean stop unregisters it.
        #expect(try await driver.consumers(queue: queue).isEmpty)
    }
}

/// Two fresh queues, `test.a` on the first and `test.b` on the second, whose handlers sleep a
/// little and then log the job's number.
func twoQueues(sleepMillis: Int) throws -> (QueueName, QueueName, RunLog, JobHandlers) {
    let a = uniqueQueue("a")
    let b = uniqueQueue("b")
    let log = RunLog()
    var handlers = JobHandlers()
    for (name, queue) in [("test.a", a), ("test.b", b)] {
        try handlers.register(JobKind<Work>(try JobName(validating: name), queue: queue)) { p, _ in
            try await Task.sleep(for: .milliseconds(sleepMillis))
            log.record(p.n)
        }
    }
    return (a, b, log, handlers)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
