import Foundation
import Jobs
import Logging
import Producers

extension WorkerRuntime {
    func fetchLoop(queue: QueueName) async {
        var backoff = Duration.milliseconds(100)
        while !isStopping {
            let slots = await acquireSlots(limit: config.fetchBatch)
            if slots == 0 { break }
            do {
                // Reclaim runs here, with slots this loop already holds: fetch loops keep every free
                // slot busy, so a separate reclaimer would rarely find one.
                if !reclaimHeld, state.withLock({ $0.reclaimDue.remove(queue) != nil }) {
                    let reclaimed = try await service.driver.reclaim(
                        queue: queue, consumer: config.consumerName, idleFor: config.visibilityTimeout, maxCount: slots,
                        maxDeliveries: config.maxDeliveries)
                    for job in reclaimed.poisoned { await runDeadHook(job, reason: .poison, message: "delivered \(job.deliveries) times without finishing") }
                    if !reclaimed.jobs.isEmpty {
                        logger.warning("reclaimed jobs of a silent consumer", metadata: ["queue": "\(queue)", "count": "\(reclaimed.jobs.count)"])
                        // Every slot it had went to reclaimed jobs, so more may be waiting: reclaim
                        // again as slots free up, before reading new work. Otherwise a busy worker
                        // would take over a dead one's jobs one heartbeat at a time.
                        if reclaimed.jobs.count >= slots { state.withLock { _ = $0.reclaimDue.insert(queue) } }
                        for job in reclaimed.jobs { start(job) }
                        releaseSlots(slots - reclaimed.jobs.count)
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
                noteRedisTrouble()
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
            finish(job, await outcomeForUnknownKind(job))
            return
        }
        let m = metrics.kind(envelope.kind, queue: job.queue)
        let started = service.clock.nowMillis()
        m.queueWait.recordMilliseconds(max(0, started - (envelope.notBefore ?? envelope.enqueuedAt)))
        let context = JobContext(
            id: envelope.id, kind: envelope.kind, queue: job.queue, attempt: envelope.attempt, deliveries: job.deliveries,
            enqueuedAt: envelope.enqueuedAt, idempotencyKey: envelope.idempotencyKey, traceContext: envelope.traceContext,
            logger: logger.with(job: envelope.id, kind: envelope.kind),
            client: JobClient(driver: service.driver, clock: service.clock))
        let clockStart = ContinuousClock.now
        var result: JobCompletion.Outcome
        do {
            try await entry.run(envelope.payload, context)
            m.processed.increment()
            result = .succeeded
        } catch {
            // A handler that ran past its timeout was cancelled; whatever it threw then, it timed out.
            let failure: any Error = timedOut(job) ? JobTimeout(timeout: entry.descriptor.timeout) : error
            result = outcome(for: failure, job: job, policy: entry.descriptor.retry)
        }
        m.duration.recordNanoseconds((ContinuousClock.now - clockStart).nanoseconds)
        if case .dead(let reason, let error) = result { await runDeadHook(job, reason: reason, message: error.error) }
        finish(job, result)
    }

    func timedOut(_ job: FetchedJob) -> Bool { state.withLock { $0.inFlight[Self.key(job)]?.timedOut ?? false } }

    /// Runs the kind's `onDead` hook before its job is buried, so effects outside the queue (a
    /// broadcast's counts) hear of every end. A failing hook is retried briefly, then logged.
    func runDeadHook(_ job: FetchedJob, reason: DeadReason, message: String) async {
        guard let hook = service.handlers.entry(for: job.envelope.kind)?.onDead else { return }
        let death = JobDeath(
            id: job.envelope.id, idempotencyKey: job.envelope.idempotencyKey, reason: reason, message: message,
            logger: logger.with(job: job.envelope.id, kind: job.envelope.kind))
        var delay = Duration.milliseconds(100)
        let payload = job.envelope.payload
        for attempt in 1...5 {
            do {
                // Detached: a job the watchdog timed out runs its hook from its cancelled task, and
                // cancellation would stop the hook's PostgreSQL calls before they start.
                try await Task.detached { try await hook(payload, death) }.value
                return
            } catch {
                logger.error("dead-job hook failed", metadata: [
                    "job": "\(job.envelope.id)", "kind": "\(job.envelope.kind)", "attempt": "\(attempt)", "error": "\(error)",
                ])
                await pause(delay)
                delay = delay * 2
            }
        }
    }

    /// A job of a kind this worker has no handler for goes back for a consumer that has one (an
    /// old build in a rolling deploy, a worker without a Telegram token). Only when no live
    /// consumer of the queue says it can run the kind is it a dead letter.
    func outcomeForUnknownKind(_ job: FetchedJob) async -> JobCompletion.Outcome {
        let kind = job.envelope.kind
        if await peersCanRun(kind, queue: job.queue) {
            logger.info("no handler for this kind here; left for a consumer that has one", metadata: [
                "job": "\(job.envelope.id)", "kind": "\(kind)", "queue": "\(job.queue)",
            ])
            return .snooze(at: service.clock.nowMillis() + 1000)
        }
        return .dead(reason: .unknownKind, error: attemptError(job, "no live consumer of queue '\(job.queue)' has a handler for job kind '\(kind)'"))
    }

    /// Whether another live consumer of `queue` says it runs `kind`; read at most once a second.
    func peersCanRun(_ kind: String, queue: QueueName) async -> Bool {
        let now = ContinuousClock.now
        if let cached = state.withLock({ $0.peerKinds[queue] }), now - cached.read < .seconds(1) {
            return cached.kinds.contains(kind)
        }
        // A failed read says nothing: assume a peer may run it, so the job waits instead of dying.
        guard let consumers = try? await service.driver.consumers(queue: queue) else { return true }
        var kinds = Set<String>()
        for c in consumers where c.info.name != config.consumerName { kinds.formUnion(c.info.kinds ?? []) }
        state.withLock { $0.peerKinds[queue] = (now, kinds) }
        return kinds.contains(kind)
    }
}
