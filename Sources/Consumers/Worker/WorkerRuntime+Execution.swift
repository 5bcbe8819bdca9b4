import Foundation
import Jobs
import Logging
import Producers

// Running one job: its handler inside the middleware, its dead hook, and kinds it has no handler for.
extension WorkerRuntime {
    func execute(_ job: FetchedJob) async {
        let envelope = job.envelope
        guard let entry = service.handlers.entry(for: envelope.kind) else {
            finish(job, await outcomeForUnknownKind(job))
            return
        }
        let context = JobContext(
            id: envelope.id, kind: envelope.kind, queue: job.queue, attempt: envelope.attempt, deliveries: job.deliveries,
            enqueuedAt: envelope.enqueuedAt, notBefore: envelope.notBefore, idempotencyKey: envelope.idempotencyKey,
            traceContext: envelope.traceContext, logger: logger.with(job),
            client: JobClient(driver: service.driver, clock: service.clock))
        var result: JobCompletion.Outcome
        var timedOut = false
        do {
            let payload = envelope.payload
            try await JobHandlers.run(middleware[...], context) { try await entry.run(payload, $0) }
            result = .succeeded
        } catch {
            // A handler that ran past its timeout was cancelled; whatever it threw then, it timed out.
            timedOut = self.timedOut(job)
            let failure: any Error = timedOut ? JobTimeout(timeout: entry.descriptor.timeout) : error
            result = outcome(for: failure, job: job, policy: entry.descriptor.retry, checkpointed: context.checkpoints.any)
        }
        // Given up by the watchdog while it ignored its cancellation: the job has ended already.
        if timedOut, isRunaway(job) { return }
        if case .dead(let reason, let error) = result, await !runDeadHook(job, reason: reason, message: error.error) {
            // Shutting down in an outage, the hook never ran: the job stays pending, and the worker
            // that reclaims it runs its end again, hook and all.
            leave(job)
            return
        }
        finish(job, result, timedOut: timedOut)
    }

    func timedOut(_ job: FetchedJob) -> Bool { state.withLock { $0.inFlight[Self.key(job)]?.timedOut ?? false } }

    /// Runs the kind's `onDead` hook before its job is buried, so effects outside the queue (a
    /// broadcast's counts) hear of every end. A failing hook is retried briefly, then logged; one
    /// failing on an outage is retried for up to `deadHookOutageBudget`, since giving up would
    /// leave its broadcast or market waiting for ever. With `mayLeave`, returns false when the
    /// worker is stopping and the hook failed on an outage: the job must then not be buried by this
    /// worker. A poison job is buried already (by its reclaim), so its hook is retried until the
    /// shutdown's grace runs out.
    @discardableResult
    func runDeadHook(_ job: FetchedJob, reason: DeadReason, message: String, mayLeave: Bool = true) async -> Bool {
        guard let hook = service.handlers.entry(for: job.envelope.kind)?.onDead else { return true }
        // A run whose entry another worker took over (and may be running) must not end the job's
        // effects: its bury will change nothing either. No holder at all (a poison job its reclaim
        // just buried, a job Redis forgot) runs it, and so does a failed read.
        if let owned = service.driver as? any EntryOwnershipDriver, let holder = try? await owned.holder(of: job), holder != job.consumer {
            logger.warning(
                "dead-job hook skipped: the job is another consumer's now",
                metadata: ["job": "\(job.envelope.id)", "kind": "\(job.envelope.kind)"])
            return true
        }
        let death = JobDeath(
            id: job.envelope.id, idempotencyKey: job.envelope.idempotencyKey, reason: reason, message: message,
            logger: logger.with(job))
        var delay = Duration.milliseconds(100)
        let payload = job.envelope.payload
        let giveUp = ContinuousClock.now + config.deadHookOutageBudget
        var attempt = 0
        var failures = 0
        while failures < 5 {
            attempt += 1
            do {
                // Detached: a job the watchdog timed out runs its hook from its cancelled task, and
                // cancellation would stop the hook's PostgreSQL calls before they start.
                try await Task.detached { try await hook(payload, death) }.value
                return true
            } catch {
                let outage = (error as? any OutageError)?.isOutage == true
                if outage && mayLeave && isStopping { return false }
                if !(outage && ContinuousClock.now < giveUp && !graceExpired) { failures += 1 }
                if attempt <= 5 || attempt % 20 == 0 {
                    logger.error(
                        "dead-job hook failed",
                        metadata: [
                            "job": "\(job.envelope.id)", "kind": "\(job.envelope.kind)", "attempt": "\(attempt)", "error": "\(error)",
                        ])
                }
                await pause(delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        return true
    }

    /// A job of a kind this worker has no handler for goes back for a consumer that has one (an
    /// old build in a rolling deploy, a worker without a Telegram token). Only when no live
    /// consumer of the queue says it can run the kind is it a dead letter.
    func outcomeForUnknownKind(_ job: FetchedJob) async -> JobCompletion.Outcome {
        let kind = job.envelope.kind
        if await peersCanRun(kind, queue: job.queue) {
            logger.info(
                "no handler for this kind here; left for a consumer that has one",
                metadata: [
                    "job": "\(job.envelope.id)", "kind": "\(kind)", "queue": "\(job.queue)",
                ])
            return .snooze(at: service.clock.nowMillis() + 1000)
        }
        return .dead(
            reason: .unknownKind, error: attemptError(job, "no live consumer of queue '\(job.queue)' has a handler for job kind '\(kind)'"))
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
