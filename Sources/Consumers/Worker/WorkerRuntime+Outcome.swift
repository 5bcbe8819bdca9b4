import Foundation
import Jobs
import Logging

extension WorkerRuntime {
    /// Maps what a handler threw to the job's next step.
    /// `checkpointed`: the run saved progress first (``JobContext/checkpointed()``), so a transient
    /// failure uses no attempt.
    func outcome(for error: any Error, job: FetchedJob, policy: RetryPolicy, checkpointed: Bool = false) -> JobCompletion.Outcome {
        let now = service.clock.nowMillis()
        // Saturating, and within what the envelope decoder takes: a handler may name any delay.
        func after(_ delay: Duration) -> Int64 {
            let (sum, overflow) = now.addingReportingOverflow(delay.milliseconds)
            return overflow ? JobEnvelope.Limits.maxMillis : min(max(sum, 0), JobEnvelope.Limits.maxMillis)
        }
        let attempt = job.envelope.attempt
        if let failure = error as? JobFailure {
            if failure.isPermanent {
                return .dead(reason: .permanent, error: attemptError(job, failure.reason))
            }
            if failure.isRejected {
                return .rejected(reason: failure.reason)
            }
            if let delay = failure.snoozeDelay {
                return .snooze(at: after(delay))
            }
            if let delay = failure.retryDelay {
                if checkpointed { return afterCheckpoint(job, failure.reason, at: after(delay)) }
                guard policy.allowsRetry(afterAttempt: attempt) else {
                    return .dead(reason: .exhausted, error: attemptError(job, failure.reason))
                }
                return .retry(at: after(delay), error: attemptError(job, failure.reason))
            }
        }
        // Bounded by the job's outage waits, so a job that itself breaks its connection (a query that
        // crashes the backend, a bad password) comes back to its attempts after a long while.
        if let outage = error as? any OutageError, outage.isOutage, job.envelope.outages < config.outageSnoozeLimit {
            noteOutage(job, error)
            return .snooze(at: after(outageWait()), outage: true)
        }
        let message = error is CancellationError ? "cancelled" : "\(error)"
        if checkpointed { return afterCheckpoint(job, message, at: after(policy.backoff(afterAttempt: 1))) }
        guard policy.allowsRetry(afterAttempt: attempt) else {
            return .dead(reason: .exhausted, error: attemptError(job, message))
        }
        return .retry(at: after(policy.backoff(afterAttempt: attempt)), error: attemptError(job, message))
    }

    /// A run that saved progress and then failed goes on from its checkpoint without using an
    /// attempt. Logged, since the snooze keeps no error in the job's history.
    private func afterCheckpoint(_ job: FetchedJob, _ message: String, at due: Int64) -> JobCompletion.Outcome {
        logger.warning(
            "job failed after a checkpoint; goes on from it without using an attempt",
            metadata: [
                "job": "\(job.envelope.id)", "kind": "\(job.envelope.kind.prefix(64))", "queue": "\(job.queue)", "error": "\(message)",
            ])
        return .snooze(at: due)
    }

    /// A wait drawn from `outageWait`, so the jobs an outage held do not all come back at once.
    func outageWait() -> Duration {
        let range = config.outageWait
        let low = range.lowerBound.milliseconds
        return .milliseconds(low + Int64.random(in: 0...max(0, range.upperBound.milliseconds - low)))
    }

    /// Logs an outage wait, at most once a second per process: an outage holds every job at once.
    private func noteOutage(_ job: FetchedJob, _ error: any Error) {
        let now = ContinuousClock.now
        let due = state.withLock { s -> Bool in
            if let last = s.lastOutageLog, now - last < .seconds(1) { return false }
            s.lastOutageLog = now
            return true
        }
        guard due else { return }
        logger.warning(
            "job waits out an outage (no attempt used)",
            metadata: [
                "job": "\(job.envelope.id)", "kind": "\(job.envelope.kind.prefix(64))", "queue": "\(job.queue)", "error": "\(error)",
            ])
    }

    func attemptError(_ job: FetchedJob, _ message: String) -> AttemptError {
        AttemptError(attempt: job.envelope.attempt, at: service.clock.nowMillis(), error: message)
    }

    /// Records a job's end once: a job abandoned at shutdown is not recorded again.
    func finish(_ job: FetchedJob, _ outcome: JobCompletion.Outcome, timedOut: Bool = false) {
        let (known, waiter, drained) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            guard s.inFlight.removeValue(forKey: Self.key(job)) != nil else { return (false, nil, nil) }
            s.runningByQueue[job.queue, default: 1] -= 1
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
        ended(outcome, job, timedOut: timedOut)
        waiter?.resume()
        drained?.resume()
        releaseSlots(1)
    }

    /// Lets a job go without a result: it stays pending for reclaim. Frees its slot.
    func leave(_ job: FetchedJob) {
        let (known, drained) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
            guard s.inFlight.removeValue(forKey: Self.key(job)) != nil else { return (false, nil) }
            s.runningByQueue[job.queue, default: 1] -= 1
            var d: CheckedContinuation<Void, Never>?
            if s.inFlight.isEmpty && s.stopping {
                d = s.drainWaiter
                s.drainWaiter = nil
            }
            return (true, d)
        }
        guard known else { return }
        logger.warning(
            "job left for reclaim: its dead-job hook could not run through an outage during shutdown",
            metadata: ["job": "\(job.envelope.id)", "kind": "\(job.envelope.kind)"])
        drained?.resume()
        releaseSlots(1)
    }

    private func ended(_ outcome: JobCompletion.Outcome, _ job: FetchedJob, timedOut: Bool) {
        // Only registered kinds name a series: a producer can invent any number of kind names.
        let label = service.handlers.entry(for: job.envelope.kind) == nil ? "unknown" : job.envelope.kind
        var end = JobEnd(id: job.envelope.id, kind: label, queue: job.queue, attempt: job.envelope.attempt, outcome: outcome)
        end.timedOut = timedOut
        for m in middleware { m.ended(end) }
        switch outcome {
        case .succeeded, .snooze: break
        case .retry(_, let error):
            logger.warning("job failed; will retry", metadata: meta(job, error.error))
        case .rejected(let reason):
            logger.info("job rejected", metadata: meta(job, reason))
        case .dead(let reason, let error):
            logger.error("job dead", metadata: meta(job, error.error).merging(["reason": "\(reason)"]) { a, _ in a })
        }
    }

    private func meta(_ job: FetchedJob, _ error: String) -> Logger.Metadata {
        [
            "job": "\(job.envelope.id)", "kind": "\(job.envelope.kind.prefix(64))", "queue": "\(job.queue)",
            "attempt": "\(job.envelope.attempt)", "error": "\(error)",
        ]
    }
}
