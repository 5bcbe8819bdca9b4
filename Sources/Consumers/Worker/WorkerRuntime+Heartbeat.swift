import Foundation
import Jobs
import Logging

extension WorkerRuntime {
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
