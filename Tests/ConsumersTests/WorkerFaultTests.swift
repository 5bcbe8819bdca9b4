import Foundation
import Jobs
import JobsRedis
import JobsWorker
import Logging
import Postgres
import Producers
import Synchronization
import TestSupport
import Testing

/// A memory driver whose Redis "goes away" on command: the calls the test names fail while the
/// outage lasts, and every call is logged in order.
final class FlakyDriver: JobQueueDriver, QueueInspectionDriver {
    enum Call: Equatable { case fetch, reclaim, renew([String]), complete, heartbeat, consumers }

    let inner: MemoryQueueDriver
    let failing = Mutex<Set<String>>([])
    let calls = Mutex<[(at: ContinuousClock.Instant, call: Call)]>([])

    init(_ inner: MemoryQueueDriver) { self.inner = inner }

    func fail(_ names: Set<String>) { failing.withLock { $0 = names } }

    private func note(_ call: Call, _ name: String) throws {
        calls.withLock { $0.append((.now, call)) }
        if failing.withLock({ $0.contains(name) }) { throw RedisError.connection("test outage") }
    }

    func prepare(queue: QueueName) async throws { try await inner.prepare(queue: queue) }
    func enqueue(_ jobs: [JobEnvelope], queue: QueueName) async throws -> [EnqueueResult] { try await inner.enqueue(jobs, queue: queue) }
    func fetch(queue: QueueName, consumer: String, maxCount: Int, blockFor: Duration) async throws -> [FetchedJob] {
        try note(.fetch, "fetch")
        return try await inner.fetch(queue: queue, consumer: consumer, maxCount: maxCount, blockFor: blockFor)
    }
    func reclaim(queue: QueueName, consumer: String, idleFor: Duration, maxCount: Int, maxDeliveries: Int) async throws -> ReclaimResult {
        try note(.reclaim, "reclaim")
        return try await inner.reclaim(queue: queue, consumer: consumer, idleFor: idleFor, maxCount: maxCount, maxDeliveries: maxDeliveries)
    }
    func renew(queue: QueueName, consumer: String, entryIDs: [String]) async throws {
        try note(.renew(entryIDs), "renew")
        try await inner.renew(queue: queue, consumer: consumer, entryIDs: entryIDs)
    }
    func complete(_ completions: [JobCompletion], queue: QueueName) async throws {
        try note(.complete, "complete")
        try await inner.complete(completions, queue: queue)
    }
    func knownQueues() async throws -> [QueueName] { try await inner.knownQueues() }
    func stats(queue: QueueName) async throws -> QueueStats { try await inner.stats(queue: queue) }
    func heartbeat(_ consumer: ConsumerInfo, queue: QueueName, ttl: Duration) async throws {
        try note(.heartbeat, "heartbeat")
        try await inner.heartbeat(consumer, queue: queue, ttl: ttl)
    }
    func unregister(consumer: String, queue: QueueName) async throws { try await inner.unregister(consumer: consumer, queue: queue) }
    func consumers(queue: QueueName) async throws -> [ConsumerStatus] {
        try note(.consumers, "consumers")
        return try await inner.consumers(queue: queue)
    }
}

/// Sleeps on a thread of its own and ignores cancellation, as a blocking C call does.
func blockingCall(_ duration: Duration) async throws {
    try await offPool {
        Thread.sleep(forTimeInterval: Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}

@Suite("Worker under faults")
struct WorkerFaultTests {
    @Test("a timed-out job keeps its slot and lease until its handler really returns")
    func timeoutWaitsForHandler() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>(
            "test.stuck", queue: queue, retry: .fixed(maxAttempts: 2, delay: .seconds(60)), timeout: .milliseconds(100))
        let returned = Mutex(false)
        let running = Mutex((now: 0, most: 0))
        var handlers = JobHandlers()
        try handlers.register(kind) { _, _ in
            running.withLock {
                $0.now += 1; $0.most = max($0.most, $0.now)
            }
            defer { running.withLock { $0.now -= 1 } }
            try await blockingCall(.milliseconds(700))
            returned.withLock { $0 = true }
            // As a real handler does after a blocking call: a cancelled run stops here.
            try Task.checkCancellation()
        }
        let client = JobClient(driver: driver)
        let first = try await client.enqueue(kind, Work(n: 1)).id
        _ = try await client.enqueue(kind, Work(n: 2))
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config(queue, concurrency: 1))
        let sawRetryEarly = Mutex(false)
        try await runWorker(worker) {
            let status = try await driver.job(first, queue: queue)?.status
            if status == .retrying && !returned.withLock({ $0 }) { sawRetryEarly.withLock { $0 = true } }
            return status == .retrying
        }
        #expect(!sawRetryEarly.withLock { $0 })
        // With one slot, the second job never ran beside the first one's cancelled handler.
        #expect(running.withLock { $0.most } == 1)
        #expect(try await driver.job(first, queue: queue)?.lastError?.contains("timed out") == true)
    }

    @Test("an expected refusal ends the job rejected, with its reason, outside the dead-letter queue")
    func rejection() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.refuse", queue: queue)
        var handlers = JobHandlers()
        try handlers.register(kind) { _, _ in throw JobFailure.rejected("insufficient balance: stake 500 PRED, balance 1 PRED") }
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: config(queue))) {
            try await driver.job(id, queue: queue)?.status == .rejected
        }
        #expect(try await driver.job(id, queue: queue)?.lastError?.hasPrefix("insufficient balance") == true)
        #expect(try await driver.deadLetters(queue: queue, filter: .init()).isEmpty)
    }

    @Test("a kind this worker cannot run goes back while a live peer can, and dies only when none can")
    func unknownKindWaitsForPeer() async throws {
        let clock = ManualJobClock(millis: SystemJobClock().nowMillis())
        let driver = MemoryQueueDriver(clock: clock)
        let queue = uniqueQueue()
        let known = JobKind<Work>("test.known", queue: queue)
        let newer = JobKind<Work>("test.newer", queue: queue)
        var handlers = JobHandlers()
        try handlers.register(known) { _, _ in }
        // A peer of a newer build says it runs test.newer.
        let peer = ConsumerInfo(
            name: "peer", host: "h", pid: 1, startedAt: 0, concurrency: 1, inFlight: 0, processed: 0, kinds: ["test.newer"])
        try await driver.heartbeat(peer, queue: queue, ttl: .seconds(5))
        let id = try await JobClient(driver: driver, clock: clock).enqueue(newer, Work(n: 1)).id
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config(queue), clock: clock)
        try await runWorker(worker) {
            let status = try await driver.job(id, queue: queue)?.status
            if status == .scheduled {
                // Left for the peer. Then the peer goes away, and the next delivery finds nobody.
                clock.advance(by: .seconds(30))
                _ = try await driver.promoteDue(queue: queue, limit: 10)
            }
            return status == .dead
        }
        let dead = try #require(try await driver.deadLetters(queue: queue, filter: .init()).first)
        #expect(dead.reason == .unknownKind)
        #expect((dead.envelope?.snoozes ?? 0) >= 1)
    }

    @Test("job results are written however long Redis fails, and their leases are renewed meanwhile")
    func resultsOutliveAnOutage() async throws {
        let driver = FlakyDriver(MemoryQueueDriver())
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.quick", queue: queue)
        var handlers = JobHandlers()
        try handlers.register(kind) { _, _ in }
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        var c = config(queue)
        c.writeRetryMaxDelay = .milliseconds(20)
        driver.fail(["complete"])
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: c)
        let sid = Mutex<String?>(nil)
        try await runWorker(worker) {
            let writes = driver.calls.withLock { $0.filter { $0.call == .complete }.count }
            if writes >= 40 {
                // Far past the 8 tries that used to be all: the entry was renewed while its result waited.
                sid.withLock {
                    $0 = driver.calls.withLock {
                        $0.compactMap { if case .renew(let ids) = $0.call { return ids.first } else { return nil } }.last
                    }
                }
                driver.fail([])
            }
            return try await driver.inner.job(id, queue: queue)?.status == .succeeded
        }
        #expect(sid.withLock { $0 } != nil)
    }

    @Test("after an outage, owners renew before anyone reclaims")
    func renewBeforeReclaim() async throws {
        let driver = FlakyDriver(MemoryQueueDriver())
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.long", queue: queue)
        var handlers = JobHandlers()
        try handlers.register(kind) { p, _ in try await Task.sleep(for: .milliseconds(p.sleepMillis)) }
        _ = try await JobClient(driver: driver).enqueue(kind, Work(n: 1, sleepMillis: 3000))
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config(queue))
        let recovered = Mutex<ContinuousClock.Instant?>(nil)
        try await runWorker(worker) {
            let all = driver.calls.withLock { $0 }
            if all.contains(where: { $0.call == .complete }) { return true }
            if recovered.withLock({ $0 }) == nil,
                all.contains(where: { if case .renew(let ids) = $0.call { return !ids.isEmpty } else { return false } })
            {
                driver.fail(["fetch", "reclaim", "renew", "heartbeat"])
                try await Task.sleep(for: .milliseconds(800))
                driver.fail([])
                recovered.withLock { $0 = .now }
            }
            return false
        }
        let back = try #require(recovered.withLock { $0 })
        let after = driver.calls.withLock { $0.filter { $0.at >= back } }
        let firstRenew = try #require(after.firstIndex { if case .renew = $0.call { return true } else { return false } })
        let firstReclaim = after.firstIndex { $0.call == .reclaim } ?? after.count
        #expect(firstRenew < firstReclaim)
        if firstReclaim < after.count {
            // One heartbeat (300 ms in these tests) passes before the first reclaim.
            #expect(after[firstReclaim].at - after[firstRenew].at >= .milliseconds(250))
        }
    }

    /// Issue 26, finding 2: a PostgreSQL down for 35 s used up `telegram.send`'s 5 attempts and
    /// dead-lettered sends; every kind's retry budget is sized for its own failures, not outages.
    @Test("a job failing on an outage waits it out by time and uses no attempt", arguments: ["redis", "postgres"])
    func outageUsesNoAttempt(_ backend: String) async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.outage", queue: queue, retry: .exponentialJitter(maxAttempts: 2, base: .milliseconds(10)))
        let runs = Mutex(0)
        var handlers = JobHandlers()
        try handlers.register(kind) { _, context in
            let n = runs.withLock { n in
                n += 1
                return n
            }
            #expect(context.attempt == 1, "an outage used an attempt")
            guard n > 6 else {
                if backend == "redis" { throw RedisError.server("LOADING Redis is loading the dataset in memory") }
                throw PostgresError(code: .connection, message: "server closed the connection unexpectedly", sqlState: nil)
            }
        }
        var c = config(queue)
        c.outageWait = .milliseconds(10) ... .milliseconds(20)
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c)) {
            _ = try await driver.promoteDue(queue: queue, limit: 10)
            return try await driver.job(id, queue: queue)?.status == .succeeded
        }
        #expect(runs.withLock { $0 } == 7)
        #expect(try await driver.deadLetters(queue: queue, filter: .init()).isEmpty)
    }

    /// Review of issue 26's owner check: a poison job's entry is gone once its reclaim buries it, so
    /// a check for "still mine" skipped every poison job's hook, and its broadcast never ended.
    @Test("a poison job's dead hook runs, though no consumer holds its entry any more")
    func poisonHookRuns() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.poison", queue: queue)
        let hooked = Mutex(false)
        var handlers = JobHandlers()
        try handlers.register(kind, handler: { _, _ in }, onDead: { _, _ in hooked.withLock { $0 = true } })
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        // A consumer that read it and died: the worker's reclaim is its second delivery, past the limit.
        _ = try await driver.fetch(queue: queue, consumer: "crashed", maxCount: 1, blockFor: .zero)
        var c = config(queue)
        c.visibilityTimeout = .milliseconds(300)
        c.maxDeliveries = 1
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: c)) {
            try await driver.job(id, queue: queue)?.status == .dead && hooked.withLock { $0 }
        }
        #expect(hooked.withLock { $0 })
    }

    @Test("a dead-job hook failing on an outage is retried until the outage ends")
    func hookOutlastsOutage() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.bury", queue: queue, retry: .never)
        let hookRuns = Mutex(0)
        var handlers = JobHandlers()
        try handlers.register(
            kind, handler: { _, _ in throw JobFailure.permanent("bad payload") },
            onDead: { _, _ in
                // Down for 6 tries (more than the 5 a hook gets for its own failures), then up.
                let n = hookRuns.withLock { n in
                    n += 1
                    return n
                }
                if n <= 6 { throw PostgresError(code: .server, message: "the database system is starting up", sqlState: "57P03") }
            })
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: config(queue)), timeout: .seconds(60)) {
            try await driver.job(id, queue: queue)?.status == .dead
        }
        #expect(hookRuns.withLock { $0 } == 7)
    }

    @Test("a dead-job hook runs to its end for a job the watchdog cancelled")
    func hookAfterTimeout() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.hang", queue: queue, retry: .never, timeout: .milliseconds(100))
        let hooked = Mutex(false)
        var handlers = JobHandlers()
        try handlers.register(
            kind,
            handler: { _, _ in
                try await blockingCall(.milliseconds(400))
                try Task.checkCancellation()
            },
            onDead: { _, _ in
                // Cancellable, as a PostgreSQL call is: it fails at once in a cancelled task.
                try await Task.sleep(for: .milliseconds(20))
                hooked.withLock { $0 = true }
            })
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: config(queue))) {
            try await driver.job(id, queue: queue)?.status == .dead
        }
        #expect(hooked.withLock { $0 })
    }

    @Test("an unknown kind is not buried because reading the consumers failed once")
    func unknownKindWhenPeersUnreadable() async throws {
        let driver = FlakyDriver(MemoryQueueDriver())
        let queue = uniqueQueue()
        var handlers = JobHandlers()
        try handlers.register(JobKind<Work>("test.known", queue: queue)) { _, _ in }
        driver.fail(["consumers"])
        let id = try await JobClient(driver: driver).enqueue(JobKind<Work>("test.other", queue: queue), Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: config(queue))) {
            try await driver.inner.job(id, queue: queue)?.status == .scheduled
        }
        #expect(try await driver.inner.deadLetters(queue: queue, filter: .init()).isEmpty)
    }

    @Test("a snooze of any length stays a job that decodes")
    func hugeSnooze() async throws {
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue()
        let kind = JobKind<Work>("test.sleepy", queue: queue)
        var handlers = JobHandlers()
        try handlers.register(kind) { _, _ in throw JobFailure.snooze(for: .seconds(Int64.max)) }
        let id = try await JobClient(driver: driver).enqueue(kind, Work(n: 1)).id
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: config(queue))) {
            try await driver.job(id, queue: queue)?.status == .scheduled
        }
        let record = try #require(try await driver.job(id, queue: queue))
        #expect(record.dueAt == JobEnvelope.Limits.maxMillis)
        #expect(record.envelope != nil)
    }
}
