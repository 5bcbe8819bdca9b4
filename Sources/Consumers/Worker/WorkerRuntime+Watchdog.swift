import Foundation
import Jobs
import Logging

extension WorkerRuntime {
    /// Cancels jobs past their kind's timeout. The job keeps its slot and lease until its handler
    /// returns; then it is recorded as timed out (transient), so its retry never overlaps it.
    func watchdogLoop() async {
        while !backgroundStopped {
            await pause(.milliseconds(100))
            let now = ContinuousClock.now
            let late = state.withLock { s -> [InFlight] in
                var out: [InFlight] = []
                for (key, item) in s.inFlight where item.deadline <= now && !item.timedOut {
                    s.inFlight[key]?.timedOut = true
                    out.append(item)
                }
                return out
            }
            for item in late {
                logger.warning(
                    "job ran past its timeout; cancelled, its slot held until the handler returns",
                    metadata: [
                        "job": "\(item.job.envelope.id)", "kind": "\(item.job.envelope.kind)",
                    ])
                item.task?.cancel()
            }
        }
    }
}
