import Foundation
import Jobs
import Logging
import Metrics

extension WorkerRuntime {
    /// Cancels jobs past their kind's timeout. The job keeps its slot and lease until its handler
    /// returns; then it is recorded as timed out (transient), so its retry never overlaps it. A
    /// handler that ignores the cancellation for `runawayAfter` is given up (see there).
    func watchdogLoop() async {
        while !backgroundStopped {
            await pause(.milliseconds(100))
            let now = ContinuousClock.now
            let (late, runaway) = state.withLock { s -> ([InFlight], [InFlight]) in
                var late: [InFlight] = []
                var runaway: [InFlight] = []
                for (key, item) in s.inFlight {
                    if !item.timedOut, item.deadline <= now {
                        s.inFlight[key]?.timedOut = true
                        late.append(item)
                    } else if item.timedOut, !item.runaway, now - item.deadline >= config.runawayAfter {
                        s.inFlight[key]?.runaway = true
                        runaway.append(item)
                    }
                }
                return (late, runaway)
            }
            for item in late {
                logger.warning(
                    "job ran past its timeout; cancelled, its slot held until the handler returns",
                    metadata: [
                        "job": "\(item.job.envelope.id)", "kind": "\(item.job.envelope.kind)",
                    ])
                item.task?.cancel()
            }
            for item in runaway { giveUp(item) }
        }
    }

    /// Ends a job whose handler ignored its cancellation: timed out, as if the handler had
    /// returned. Its own return later finds the job ended (`isRunaway`) and does nothing.
    private func giveUp(_ item: InFlight) {
        let job = item.job
        logger.error(
            "handler ignored its cancellation; job ended as timed out and its slot freed, the handler still runs",
            metadata: [
                "job": "\(job.envelope.id)", "kind": "\(job.envelope.kind)", "after": "\(config.runawayAfter)",
            ])
        Counter(label: "thepred_worker_runaway_handlers_total", dimensions: [("queue", job.queue.rawValue)]).increment()
        guard let entry = service.handlers.entry(for: job.envelope.kind) else { return }
        let result = outcome(for: JobTimeout(timeout: entry.descriptor.timeout), job: job, policy: entry.descriptor.retry)
        Task {
            if case .dead(let reason, let error) = result {
                await runDeadHook(job, reason: reason, message: error.error, mayLeave: false)
            }
            finish(job, result, timedOut: true)
        }
    }

    /// Whether the watchdog gave this job's handler up.
    func isRunaway(_ job: FetchedJob) -> Bool { state.withLock { $0.inFlight[Self.key(job)]?.runaway ?? true } }
}
