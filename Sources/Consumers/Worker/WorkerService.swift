import Foundation
import Jobs
import Logging
import Producers
import ServiceLifecycle
import Synchronization

/// Runs jobs from one or more queues, up to `concurrency` at once in this process.
///
/// Each queue has a fetch loop that reads only as many jobs as there are free slots, so a job
/// is never held by a worker that cannot start it. Results are batched into few round trips:
/// whatever finished while the previous batch was being written goes out in the next one.
/// On graceful shutdown the worker stops reading, lets in-flight jobs finish within the grace
/// period, acks them, and leaves the rest to be reclaimed by other workers.
public struct WorkerService: Service {
    public typealias Driver = JobQueueDriver & QueueInspectionDriver

    public struct Configuration: Sendable {
        public var queues: [QueueName]
        /// Jobs run at once in this process.
        public var concurrency: Int = 16
        /// Most jobs taken in one read.
        public var fetchBatch: Int = 256
        /// How long one read waits for jobs; also bounds how late a shutdown stops reading.
        public var blockFor: Duration = .milliseconds(250)
        /// A job held this long without a lease renewal is taken over by another worker.
        public var visibilityTimeout: Duration = .seconds(60)
        /// Deliveries after which a job that keeps crashing its workers is buried as poison.
        public var maxDeliveries: Int = 10
        /// How often leases are renewed, the consumer heartbeat is written, and reclaim runs. A
        /// third of the visibility timeout at most (`effectiveHeartbeat`), so a live worker's
        /// leases are renewed before another worker may take its jobs.
        public var heartbeatInterval: Duration = .seconds(5)

        /// The heartbeat interval in force: the configured one, or a third of the visibility
        /// timeout when that is shorter.
        public var effectiveHeartbeat: Duration { min(heartbeatInterval, visibilityTimeout / 3) }
        /// How long in-flight jobs may run on after a shutdown signal.
        public var shutdownGrace: Duration = .seconds(25)
        /// The consumer name in the group; unique per process.
        public var consumerName: String

        public init(queues: [QueueName], consumerName: String? = nil) {
            self.queues = queues
            self.consumerName = consumerName ?? Self.defaultConsumerName()
        }

        public static func defaultConsumerName() -> String {
            "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(String(UInt16.random(in: 0 ... .max), radix: 16))"
        }
    }

    let driver: any Driver
    let handlers: JobHandlers
    let configuration: Configuration
    let clock: any JobClock
    let logger: Logger

    public init(
        driver: any Driver, handlers: JobHandlers, configuration: Configuration, clock: any JobClock = SystemJobClock(),
        logger: Logger = Logger(label: "thepred.worker")
    ) {
        precondition(configuration.concurrency >= 1, "concurrency must be at least 1")
        self.driver = driver
        self.handlers = handlers
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let runtime = WorkerRuntime(service: self)
        try await runtime.run()
    }
}

/// The state of one running worker.
final class WorkerRuntime: Sendable {
    struct InFlight {
        let job: FetchedJob
        let task: Task<Void, Never>?
        let deadline: ContinuousClock.Instant
    }

    struct State {
        var freeSlots: Int
        /// Fetch loops waiting for slots, first come first served, with how many each wants.
        /// Released slots go to them before anyone else, so no queue's loop starves another's.
        var slotWaiters: [(continuation: CheckedContinuation<Int, Never>, limit: Int)] = []
        /// Keyed by `key(queue, entryID)`: stream ids are per stream, so two queues can share one.
        var inFlight: [String: InFlight] = [:]
        /// Queues whose fetch loop should reclaim silent consumers' jobs before its next read.
        var reclaimDue: Set<QueueName> = []
        var completions: [JobCompletion] = []
        var completionWaiter: CheckedContinuation<Void, Never>?
        var drainWaiter: CheckedContinuation<Void, Never>?
        var stopping = false
        var processed = 0
    }

    let service: WorkerService
    let metrics = WorkerMetrics()
    let state: Mutex<State>
    let startedAt: Int64
    var config: WorkerService.Configuration { service.configuration }
    var logger: Logger { service.logger }

    init(service: WorkerService) {
        self.service = service
        // Reclaim at once on start: a restarted worker picks up what its crashed peers held.
        state = Mutex(State(freeSlots: service.configuration.concurrency, reclaimDue: Set(service.configuration.queues)))
        startedAt = service.clock.nowMillis()
    }

    func run() async throws {
        for queue in config.queues { try await service.driver.prepare(queue: queue) }
        logger.info("worker started", metadata: [
            "consumer": "\(config.consumerName)", "queues": "\(config.queues.map(\.rawValue).joined(separator: ","))",
            "concurrency": "\(config.concurrency)",
        ])
        await heartbeat()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.flushLoop() }
            group.addTask { await self.maintenanceLoop() }
            group.addTask { await self.watchdogLoop() }
            await withTaskCancellationHandler {
                await withGracefulShutdownHandler {
                    await withTaskGroup(of: Void.self) { fetchers in
                        for queue in self.config.queues {
                            fetchers.addTask { await self.fetchLoop(queue: queue) }
                        }
                    }
                } onGracefulShutdown: {
                    self.beginStopping()
                }
            } onCancel: {
                self.beginStopping()
            }
            // Reading has stopped: drain in-flight jobs within the grace period.
            await self.drain()
            self.stopBackground()
            await group.waitForAll()
        }
        for queue in config.queues {
            try? await service.driver.unregister(consumer: config.consumerName, queue: queue)
            (service.driver as? RedisQueueDriver)?.releaseReader(queue: queue, consumer: config.consumerName)
        }
        logger.info("worker stopped", metadata: ["consumer": "\(config.consumerName)", "processed": "\(state.withLock { $0.processed })"])
    }

    // MARK: Stopping

    func beginStopping() {
        let waiters = state.withLock { s -> [CheckedContinuation<Int, Never>] in
            s.stopping = true
            defer { s.slotWaiters.removeAll() }
            return s.slotWaiters.map(\.continuation)
        }
        for w in waiters { w.resume(returning: 0) }
        logger.info("shutdown: reading stopped, draining in-flight jobs", metadata: ["consumer": "\(config.consumerName)"])
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    /// Waits for in-flight jobs, up to the grace period. Jobs still running then are abandoned
    /// unacked: their leases run out and another worker reclaims them.
    func drain() async {
        let grace = Task {
            try? await Task.sleep(for: self.config.shutdownGrace)
            let abandoned = self.state.withLock { s -> [InFlight] in
                let left = Array(s.inFlight.values)
                s.inFlight.removeAll()
                return left
            }
            if !abandoned.isEmpty {
                self.logger.warning("shutdown grace ran out; jobs left for reclaim", metadata: ["count": "\(abandoned.count)"])
                for item in abandoned { item.task?.cancel() }
            }
            self.resumeDrainWaiter()
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.inFlight.isEmpty { return true }
                s.drainWaiter = c
                return false
            }
            if done { c.resume() }
        }
        grace.cancel()
    }

    private func resumeDrainWaiter() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.drainWaiter = nil }
            return s.drainWaiter
        }
        waiter?.resume()
    }

    private let background = Mutex(false)

    func stopBackground() {
        background.withLock { $0 = true }
        // Wake the flusher so it writes the last batch and sees the stop.
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.completionWaiter = nil }
            return s.completionWaiter
        }
        waiter?.resume()
    }

    var backgroundStopped: Bool { background.withLock { $0 } }

    // MARK: Slots

    /// Waits for at least one free slot and takes up to `limit`. Returns 0 once stopping.
    func acquireSlots(limit: Int) async -> Int {
        await withCheckedContinuation { (c: CheckedContinuation<Int, Never>) in
            let taken = state.withLock { s -> Int? in
                if s.stopping { return 0 }
                // Free slots with nobody queued: released slots are handed to waiters first.
                if s.freeSlots > 0 {
                    let n = min(limit, s.freeSlots)
                    s.freeSlots -= n
                    return n
                }
                s.slotWaiters.append((c, limit))
                return nil
            }
            if let taken { c.resume(returning: taken) }
        }
    }

    func releaseSlots(_ n: Int) {
        guard n > 0 else { return }
        let handed = state.withLock { s -> [(CheckedContinuation<Int, Never>, Int)] in
            s.freeSlots += n
            var out: [(CheckedContinuation<Int, Never>, Int)] = []
            while s.freeSlots > 0, !s.slotWaiters.isEmpty {
                let waiter = s.slotWaiters.removeFirst()
                let k = min(waiter.limit, s.freeSlots)
                s.freeSlots -= k
                out.append((waiter.continuation, k))
            }
            return out
        }
        for (waiter, k) in handed { waiter.resume(returning: k) }
    }

    /// Whether another fetch loop waits for a slot.
    var slotsContended: Bool { state.withLock { !$0.slotWaiters.isEmpty } }

    // MARK: Fetching and running

    func fetchLoop(queue: QueueName) async {
        var backoff = Duration.milliseconds(100)
        while !isStopping {
            let slots = await acquireSlots(limit: config.fetchBatch)
            if slots == 0 { break }
            do {
                // Reclaim runs here, with slots this loop already holds: fetch loops keep every free
                // slot busy, so a separate reclaimer would rarely find one.
                if state.withLock({ $0.reclaimDue.remove(queue) != nil }) {
                    let reclaimed = try await service.driver.reclaim(
                        queue: queue, consumer: config.consumerName, idleFor: config.visibilityTimeout, maxCount: slots,
                        maxDeliveries: config.maxDeliveries)
                    if !reclaimed.isEmpty {
                        logger.warning("reclaimed jobs of a silent consumer", metadata: ["queue": "\(queue)", "count": "\(reclaimed.count)"])
                        // Every slot it had went to reclaimed jobs, so more may be waiting: reclaim
                        // again as slots free up, before reading new work. Otherwise a busy worker
                        // would take over a dead one's jobs one heartbeat at a time.
                        if reclaimed.count >= slots { state.withLock { _ = $0.reclaimDue.insert(queue) } }
                        for job in reclaimed { start(job) }
                        releaseSlots(slots - reclaimed.count)
                        continue
                    }
                }
                // A read blocks while holding its slots; when another queue's loop waits for one,
                // block only briefly so an idle queue does not keep a busy one waiting.
                let block = slotsContended ? min(config.blockFor, .milliseconds(10)) : config.blockFor
                let jobs = try await service.driver.fetch(
                    queue: queue, consumer: config.consumerName, maxCount: slots, blockFor: block)
                releaseSlots(slots - jobs.count)
                for job in jobs { start(job) }
                backoff = .milliseconds(100)
            } catch {
                releaseSlots(slots)
                logger.error("fetch failed; retrying", metadata: ["queue": "\(queue)", "error": "\(error)", "backoff": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// Starts a job whose slot is already taken.
    func start(_ job: FetchedJob) {
        let timeout = service.handlers.entry(for: job.envelope.kind)?.descriptor.timeout ?? .seconds(30)
        let deadline = ContinuousClock.now + timeout
        // The task is registered before it can finish, so its completion always finds it.
        let started = state.withLock { s -> Bool in
            // Reclaim can hand back an entry this worker still runs; it must not run twice here.
            let key = Self.key(job)
            guard s.inFlight[key] == nil else { return false }
            let task = Task { await self.execute(job) }
            s.inFlight[key] = InFlight(job: job, task: task, deadline: deadline)
            return true
        }
        if !started { releaseSlots(1) }
    }

    static func key(_ job: FetchedJob) -> String { job.queue.rawValue + "\u{0}" + job.entryID }

    func execute(_ job: FetchedJob) async {
        let envelope = job.envelope
        guard let entry = service.handlers.entry(for: envelope.kind) else {
            finish(job, .dead(reason: .unknownKind, error: attemptError(job, "no handler for job kind '\(envelope.kind)'")))
            return
        }
        let m = metrics.kind(envelope.kind, queue: job.queue)
        let started = service.clock.nowMillis()
        m.queueWait.recordMilliseconds(max(0, started - (envelope.notBefore ?? envelope.enqueuedAt)))
        let context = JobContext(
            id: envelope.id, kind: envelope.kind, queue: job.queue, attempt: envelope.attempt, deliveries: job.deliveries,
            enqueuedAt: envelope.enqueuedAt, traceContext: envelope.traceContext,
            logger: logger.with(job: envelope.id, kind: envelope.kind),
            client: JobClient(driver: service.driver, clock: service.clock))
        let clockStart = ContinuousClock.now
        do {
            try await entry.run(envelope.payload, context)
            m.duration.recordNanoseconds((ContinuousClock.now - clockStart).nanoseconds)
            m.processed.increment()
            finish(job, .succeeded)
        } catch {
            m.duration.recordNanoseconds((ContinuousClock.now - clockStart).nanoseconds)
            finish(job, outcome(for: error, job: job, policy: entry.descriptor.retry))
        }
    }

    /// Maps what a handler threw to the job's next step.
    func outcome(for error: any Error, job: FetchedJob, policy: RetryPolicy) -> JobCompletion.Outcome {
        let now = service.clock.nowMillis()
        let attempt = job.envelope.attempt
        if let failure = error as? JobFailure {
            if failure.isPermanent {
                return .dead(reason: .permanent, error: attemptError(job, failure.reason))
            }
            if let delay = failure.snoozeDelay {
                return .snooze(at: now + delay.milliseconds)
            }
            if let delay = failure.retryDelay {
                guard policy.allowsRetry(afterAttempt: attempt) else {
                    return .dead(reason: .exhausted, error: attemptError(job, failure.reason))
                }
                return .retry(at: now + delay.milliseconds, error: attemptError(job, failure.reason))
            }
        }
        let message = error is CancellationError ? "cancelled" : "\(error)"
        guard policy.allowsRetry(afterAttempt: attempt) else {
            return .dead(reason: .exhausted, error: attemptError(job, message))
        }
        return .retry(at: now + policy.backoff(afterAttempt: attempt).milliseconds, error: attemptError(job, message))
    }

    func attemptError(_ job: FetchedJob, _ message: String) -> AttemptError {
        AttemptError(attempt: job.envelope.attempt, at: service.clock.nowMillis(), error: message)
    }

    /// Records a job's end once: a job the watchdog already timed out, or one abandoned at
    /// shutdown, is not recorded again.
    func finish(_ job: FetchedJob, _ outcome: JobCompletion.Outcome) {
        let (known, waiter, drained) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            guard s.inFlight.removeValue(forKey: Self.key(job)) != nil else { return (false, nil, nil) }
            s.completions.append(JobCompletion(job: job, outcome: outcome))
            s.processed += 1
            let w = s.completionWaiter
            s.completionWaiter = nil
            var d: CheckedContinuation<Void, Never>?
            if s.inFlight.isEmpty && s.stopping {
                d = s.drainWaiter
                s.drainWaiter = nil
            }
            return (true, w, d)
        }
        guard known else { return }
        if case .succeeded = outcome {} else { count(outcome, job) }
        waiter?.resume()
        drained?.resume()
        releaseSlots(1)
    }

    private func count(_ outcome: JobCompletion.Outcome, _ job: FetchedJob) {
        let m = metrics.kind(job.envelope.kind, queue: job.queue)
        switch outcome {
        case .succeeded: break
        case .retry(_, let error):
            m.failed.increment()
            m.retried.increment()
            logger.warning("job failed; will retry", metadata: meta(job, error.error))
        case .snooze:
            m.snoozed.increment()
        case .dead(let reason, let error):
            m.failed.increment()
            m.dead.increment()
            logger.error("job dead", metadata: meta(job, error.error).merging(["reason": "\(reason)"]) { a, _ in a })
        }
    }

    private func meta(_ job: FetchedJob, _ error: String) -> Logger.Metadata {
        ["job": "\(job.envelope.id)", "kind": "\(job.envelope.kind)", "attempt": "\(job.envelope.attempt)", "error": "\(error)"]
    }

    // MARK: Background loops

    /// Writes finished jobs in batches until stopped, then writes the last batch.
    func flushLoop() async {
        while true {
            let batch = state.withLock { s -> [JobCompletion] in
                defer { s.completions.removeAll(keepingCapacity: true) }
                return s.completions
            }
            if batch.isEmpty {
                if backgroundStopped { return }
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = state.withLock { s -> Bool in
                        if !s.completions.isEmpty || backgroundStopped { return true }
                        s.completionWaiter = c
                        return false
                    }
                    if ready { c.resume() }
                }
                continue
            }
            await write(batch)
        }
    }

    /// Writes completions, retrying while the driver fails: an unwritten ack only means the
    /// job runs again after reclaim, but retrying keeps that rare.
    func write(_ batch: [JobCompletion]) async {
        var byQueue: [QueueName: [JobCompletion]] = [:]
        for c in batch { byQueue[c.job.queue, default: []].append(c) }
        for (queue, completions) in byQueue {
            var delay = Duration.milliseconds(50)
            for attempt in 1...8 {
                do {
                    try await service.driver.complete(completions, queue: queue)
                    break
                } catch {
                    logger.error("writing job results failed", metadata: [
                        "queue": "\(queue)", "count": "\(completions.count)", "attempt": "\(attempt)", "error": "\(error)",
                    ])
                    await pause(delay)
                    delay = min(delay * 2, .seconds(2))
                }
            }
        }
    }

    /// Cancels jobs past their kind's timeout and fails them as transient.
    func watchdogLoop() async {
        while !backgroundStopped {
            await pause(.milliseconds(100))
            let now = ContinuousClock.now
            let late = state.withLock { s in s.inFlight.values.filter { $0.deadline <= now } }
            for item in late {
                let descriptor = service.handlers.entry(for: item.job.envelope.kind)?.descriptor
                let error = JobTimeout(timeout: descriptor?.timeout ?? .seconds(30))
                // Recorded before cancelling, so the handler's CancellationError finds the job settled.
                finish(item.job, outcome(for: error, job: item.job, policy: descriptor?.retry ?? .default))
                item.task?.cancel()
            }
        }
    }

    /// Renews leases, writes the consumer heartbeat, and reclaims jobs of silent consumers.
    func maintenanceLoop() async {
        var lastBeat = ContinuousClock.now
        while !backgroundStopped {
            await pause(.milliseconds(200))
            guard ContinuousClock.now - lastBeat >= config.effectiveHeartbeat, !backgroundStopped else { continue }
            lastBeat = ContinuousClock.now
            await heartbeat()
            if !isStopping { state.withLock { $0.reclaimDue.formUnion(config.queues) } }
        }
    }

    func heartbeat() async {
        let (held, processed) = state.withLock { s in (s.inFlight.values.map(\.job), s.processed) }
        for queue in config.queues {
            let mine = held.filter { $0.queue == queue }.map(\.entryID)
            let info = ConsumerInfo(
                name: config.consumerName, host: ProcessInfo.processInfo.hostName, pid: getpid(), startedAt: startedAt,
                concurrency: config.concurrency, inFlight: mine.count, processed: processed)
            do {
                try await service.driver.renew(queue: queue, consumer: config.consumerName, entryIDs: mine)
                try await service.driver.heartbeat(info, queue: queue, ttl: config.effectiveHeartbeat)
            } catch {
                logger.warning("heartbeat failed", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
    }

}

/// Sleeps even when the task is cancelled. The worker's background loops must keep their pace
/// while a cancelled worker drains; `try? Task.sleep` would return at once and spin.
func pause(_ duration: Duration) async {
    if !Task.isCancelled {
        try? await Task.sleep(for: duration)
        return
    }
    await Task.detached { try? await Task.sleep(for: duration) }.value
}

/// A job ran past its kind's timeout; it counts as a transient failure.
public struct JobTimeout: Error, CustomStringConvertible {
    public let timeout: Duration
    public var description: String { "timed out after \(timeout)" }
}

extension Logger {
    func with(job: JobID, kind: String) -> Logger {
        var copy = self
        copy[metadataKey: "job"] = "\(job)"
        copy[metadataKey: "kind"] = "\(kind)"
        return copy
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (s, a) = components
        return s * 1_000_000_000 + a / 1_000_000_000
    }
}
