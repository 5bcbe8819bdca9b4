import Foundation
import Jobs
import Logging

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
                        logger.error("shutdown grace ran out with job results unwritten; they will run again after reclaim", metadata: [
                            "queue": "\(queue)", "count": "\(completions.count)", "error": "\(error)",
                        ])
                        break
                    }
                    // Log the first failures, then every tenth: an outage can last minutes.
                    if attempt <= 3 || attempt % 10 == 0 {
                        logger.error("writing job results failed; retrying", metadata: [
                            "queue": "\(queue)", "count": "\(completions.count)", "attempt": "\(attempt)", "error": "\(error)",
                        ])
                    }
                    await pause(delay)
                    delay = min(delay * 2, config.writeRetryMaxDelay)
                }
            }
        }
    }

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
                logger.warning("job ran past its timeout; cancelled, its slot held until the handler returns", metadata: [
                    "job": "\(item.job.envelope.id)", "kind": "\(item.job.envelope.kind)",
                ])
                item.task?.cancel()
            }
        }
    }

    /// Renews leases, writes the consumer heartbeat, and reclaims jobs of silent consumers.
    /// After a Redis outage it renews at once, before anything may be reclaimed.
    func maintenanceLoop() async {
        var lastBeat = ContinuousClock.now
        while !backgroundStopped {
            await pause(.milliseconds(200))
            let trouble = state.withLock { $0.redisTrouble }
            guard trouble || ContinuousClock.now - lastBeat >= config.effectiveHeartbeat, !backgroundStopped else { continue }
            lastBeat = ContinuousClock.now
            await heartbeat()
            if !isStopping { state.withLock { $0.reclaimDue.formUnion(config.queues) } }
        }
    }

    func heartbeat() async {
        let (held, processed) = state.withLock { s in
            (s.inFlight.values.map(\.job) + s.completions.map(\.job) + s.writing, s.processed)
        }
        let kinds = service.handlers.registry.all.map(\.name.rawValue)
        var ok = true
        for queue in config.queues {
            let mine = held.filter { $0.queue == queue }.map(\.entryID)
            let info = ConsumerInfo(
                name: config.consumerName, host: ProcessInfo.processInfo.hostName, pid: getpid(), startedAt: startedAt,
                concurrency: config.concurrency, inFlight: mine.count, processed: processed,
                leaseMillis: config.visibilityTimeout.milliseconds, kinds: kinds)
            do {
                try await service.driver.renew(queue: queue, consumer: config.consumerName, entryIDs: mine)
                try await service.driver.heartbeat(info, queue: queue, ttl: config.effectiveHeartbeat)
            } catch {
                ok = false
                logger.warning("heartbeat failed", metadata: ["queue": "\(queue)", "error": "\(error)"])
            }
        }
        state.withLock { s in
            if !ok {
                s.redisTrouble = true
            } else if s.redisTrouble {
                // Renewed after an outage: give peers one heartbeat to renew theirs before reclaiming.
                s.redisTrouble = false
                s.reclaimHeldUntil = .now + config.effectiveHeartbeat
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
