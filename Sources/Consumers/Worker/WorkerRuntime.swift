import Foundation
import Jobs
import Logging
import Producers
import ServiceLifecycle
import Synchronization

/// The state of one running worker. Its loops live in the `WorkerRuntime+*.swift` files: fetching
/// and running, outcomes, and the background loops (flusher, watchdog, heartbeat).
final class WorkerRuntime: Sendable {
    struct InFlight {
        let job: FetchedJob
        let task: Task<Void, Never>?
        let deadline: ContinuousClock.Instant
        /// Set by the watchdog once the job ran past its timeout and was cancelled. The slot and
        /// the lease stay held until the handler really returns, so a retry never overlaps it.
        var timedOut = false
        /// Set once the handler ignored its cancellation for `runawayAfter`: the watchdog ended
        /// the job, and the handler's own return changes nothing.
        var runaway = false
    }

    struct State {
        var freeSlots: Int
        /// Fetch loops waiting for slots, first come first served, with how many each wants.
        /// Released slots go to them before anyone else, so no queue's loop starves another's.
        var slotWaiters: [(continuation: CheckedContinuation<Int, Never>, limit: Int)] = []
        /// Keyed by `key(queue, entryID)`: stream ids are per stream, so two queues can share one.
        var inFlight: [String: InFlight] = [:]
        /// In-flight jobs per queue, for the queues with a cap (`Configuration.queueConcurrency`).
        var runningByQueue: [QueueName: Int] = [:]
        /// Queues whose fetch loop should reclaim silent consumers' jobs before its next read.
        var reclaimDue: Set<QueueName> = []
        var completions: [JobCompletion] = []
        /// Completions being written now; their leases are renewed until the write lands.
        var writing: [FetchedJob] = []
        var completionWaiter: CheckedContinuation<Void, Never>?
        var drainWaiter: CheckedContinuation<Void, Never>?
        var stopping = false
        var processed = 0
        /// Set when a Redis call failed; cleared by the first renewal after Redis answers again.
        var redisTrouble = false
        /// No reclaim before this: after an outage, every live owner renews first.
        var reclaimHeldUntil: ContinuousClock.Instant?
        /// Other consumers' kinds, per queue, read at most once a second.
        var peerKinds: [QueueName: (read: ContinuousClock.Instant, kinds: Set<String>)] = [:]
        /// When an outage wait was last logged.
        var lastOutageLog: ContinuousClock.Instant?
    }

    let service: WorkerService
    /// The worker's middleware, then the handlers'.
    let middleware: [any JobMiddleware]
    let state: Mutex<State>
    let startedAt: Int64
    var config: WorkerService.Configuration { service.configuration }
    var logger: Logger { service.logger }

    init(service: WorkerService) {
        self.service = service
        middleware = service.configuration.middleware + service.handlers.middleware
        // Reclaim at once on start: a restarted worker picks up what its crashed peers held.
        state = Mutex(State(freeSlots: service.configuration.concurrency, reclaimDue: Set(service.configuration.queues)))
        startedAt = service.clock.nowMillis()
    }

    func run() async throws {
        for queue in config.queues { try await service.driver.prepare(queue: queue) }
        logger.info(
            "worker started",
            metadata: [
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
            (service.driver as? any ReaderReleasingDriver)?.releaseReader(queue: queue, consumer: config.consumerName)
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

    /// Set when draining began; results still unwritten past the grace period are given up.
    let drainStarted = Mutex<ContinuousClock.Instant?>(nil)

    /// Waits for in-flight jobs, up to the grace period. Jobs still running then are abandoned
    /// unacked: their leases run out and another worker reclaims them.
    func drain() async {
        drainStarted.withLock { $0 = .now }
        let grace = Task {
            try? await Task.sleep(for: self.config.shutdownGrace)
            let abandoned = self.state.withLock { s -> [InFlight] in
                let left = Array(s.inFlight.values)
                s.inFlight.removeAll()
                s.runningByQueue.removeAll()
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

    /// Whether a shutdown's grace period has run out.
    var graceExpired: Bool {
        guard let started = drainStarted.withLock({ $0 }) else { return false }
        return ContinuousClock.now - started >= config.shutdownGrace
    }

    func resumeDrainWaiter() {
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

    // MARK: Redis trouble

    /// A Redis call failed: the next success triggers a renewal, and reclaim waits after it.
    func noteRedisTrouble() { state.withLock { $0.redisTrouble = true } }

    /// Whether reclaim must wait: while Redis is in trouble, and for one heartbeat after it is
    /// back, so owners renew their leases before anyone may take their jobs.
    var reclaimHeld: Bool {
        state.withLock { s in s.redisTrouble || (s.reclaimHeldUntil.map { ContinuousClock.now < $0 } ?? false) }
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
