import Foundation
import Jobs
import Logging
import Producers

extension WorkerRuntime {
    func fetchLoop(queue: QueueName) async {
        var backoff = Duration.milliseconds(100)
        let cap = config.queueConcurrency[queue]
        while !isStopping {
            var limit = config.fetchBatch
            if let cap {
                // At its cap, the queue waits for one of its own jobs to end; the slots stay free for the others.
                let room = cap - state.withLock { $0.runningByQueue[queue] ?? 0 }
                if room <= 0 {
                    await pause(.milliseconds(50))
                    continue
                }
                limit = min(limit, room)
            }
            let slots = await acquireSlots(limit: limit)
            if slots == 0 { break }
            do {
                // Reclaim runs here, with slots this loop already holds: fetch loops keep every free
                // slot busy, so a separate reclaimer would rarely find one.
                if !reclaimHeld, state.withLock({ $0.reclaimDue.remove(queue) != nil }) {
                    let reclaimed = try await service.driver.reclaim(
                        queue: queue, consumer: config.consumerName, idleFor: config.visibilityTimeout, maxCount: slots,
                        maxDeliveries: config.maxDeliveries)
                    for job in reclaimed.poisoned {
                        await runDeadHook(
                            job, reason: .poison, message: "delivered \(job.deliveries) times without finishing", mayLeave: false)
                    }
                    if !reclaimed.jobs.isEmpty {
                        logger.warning(
                            "reclaimed jobs of a silent consumer", metadata: ["queue": "\(queue)", "count": "\(reclaimed.jobs.count)"])
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
            s.runningByQueue[job.queue, default: 0] += 1
            return true
        }
        if !started { releaseSlots(1) }
    }

    static func key(_ job: FetchedJob) -> String { job.queue.rawValue + "\u{0}" + job.entryID }

}
