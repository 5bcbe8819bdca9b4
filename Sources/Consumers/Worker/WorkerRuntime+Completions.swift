import Foundation
import Jobs
import Logging

// Completion flushing: job results go to the driver in batches, retried until written.
extension WorkerRuntime {
    /// Writes finished jobs in batches until stopped, then writes the last batch.
    func flushLoop() async {
        while true {
            let batch = state.withLock { s -> [JobCompletion] in
                defer { s.completions.removeAll(keepingCapacity: true) }
                s.writing = s.completions.map(\.job)
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
            state.withLock { $0.writing.removeAll(keepingCapacity: true) }
        }
    }

    /// Writes completions, retrying with backoff for as long as the process lives: an unwritten
    /// result would make the job run again. Their leases are renewed meanwhile. Only after a
    /// shutdown's grace period are they given up, to be reclaimed and run again elsewhere.
    func write(_ batch: [JobCompletion]) async {
        var byQueue: [QueueName: [JobCompletion]] = [:]
        for c in batch { byQueue[c.job.queue, default: []].append(c) }
        for (queue, completions) in byQueue {
            var delay = min(Duration.milliseconds(50), config.writeRetryMaxDelay)
            var attempt = 0
            while true {
                do {
                    try await service.driver.complete(completions, queue: queue)
                    break
                } catch {
                    attempt += 1
                    noteRedisTrouble()
                    if graceExpired {
                        logger.error(
                            "shutdown grace ran out with job results unwritten; they will run again after reclaim",
                            metadata: [
                                "queue": "\(queue)", "count": "\(completions.count)", "error": "\(error)",
                            ])
                        break
                    }
                    // Log the first failures, then every tenth: an outage can last minutes.
                    if attempt <= 3 || attempt % 10 == 0 {
                        logger.error(
                            "writing job results failed; retrying",
                            metadata: [
                                "queue": "\(queue)", "count": "\(completions.count)", "attempt": "\(attempt)", "error": "\(error)",
                            ])
                    }
                    await pause(delay)
                    delay = min(delay * 2, config.writeRetryMaxDelay)
                }
            }
        }
    }
}
