import Foundation
import Jobs
import Logging
import Metrics
import ServiceLifecycle

/// Turns time into jobs: promotes due delayed jobs and enqueues periodic schedules.
///
/// Any number may run. Promotion is an atomic script, so schedulers never double a job. Periodic
/// ticks are enqueued by the leader only, each under an idempotency key made from the schedule
/// and the tick, so even two leaders for a moment enqueue a tick once.
public struct SchedulerService: Service {
    public typealias Driver = JobQueueDriver & DelayedJobDriver & QueueInspectionDriver

    public struct Configuration: Sendable {
        /// Longest sleep of the promotion loop; a due job is promoted at most this late under normal load.
        public var promoteInterval: Duration = .milliseconds(50)
        /// Jobs promoted per script call.
        public var promoteBatch: Int = 1000
        /// How long the leader lock lasts without renewal.
        public var leaderTTL: Duration = .seconds(10)
        /// Queues promoted even before anything registered them.
        public var queues: [QueueName] = []

        public init() {}
    }

    let driver: any Driver
    let coordinator: any SchedulerCoordinator
    let schedules: [PeriodicSchedule]
    let configuration: Configuration
    let clock: any JobClock
    let logger: Logger
    /// This scheduler's name in the leader lock.
    public let holder: String

    public init(
        driver: any Driver, coordinator: any SchedulerCoordinator, schedules: [PeriodicSchedule],
        configuration: Configuration = .init(), clock: any JobClock = SystemJobClock(),
        logger: Logger = Logger(label: "thepred.scheduler"), holder: String? = nil
    ) {
        self.driver = driver
        self.coordinator = coordinator
        self.schedules = schedules
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.holder = holder ?? "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UInt32.random(in: 0 ... .max))"
    }

    public func run() async throws {
        logger.info("scheduler started", metadata: ["holder": "\(holder)", "schedules": "\(schedules.count)"])
        // Nothing a scheduler does needs draining: stopping between two scripts loses nothing.
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.promoteLoop() }
                if !schedules.isEmpty { group.addTask { await self.periodicLoop() } }
                await group.waitForAll()
            }
        }
        try? await coordinator.resign(holder: holder)
        logger.info("scheduler stopped", metadata: ["holder": "\(holder)"])
    }

    func promoteLoop() async {
        let promoted = Counter(label: "thepred_scheduler_promoted_total")
        var queues = configuration.queues
        var refreshed = ContinuousClock.now - .seconds(60)
        while !Task.isCancelled {
            if ContinuousClock.now - refreshed > .seconds(2) {
                if let known = try? await driver.knownQueues() { queues = Array(Set(known + configuration.queues)).sorted() }
                refreshed = ContinuousClock.now
            }
            var sleep = configuration.promoteInterval
            for queue in queues {
                do {
                    var result = try await driver.promoteDue(queue: queue, limit: configuration.promoteBatch)
                    promoted.increment(by: result.promoted)
                    while result.promoted == configuration.promoteBatch {
                        result = try await driver.promoteDue(queue: queue, limit: configuration.promoteBatch)
                        promoted.increment(by: result.promoted)
                    }
                    if let due = result.nextDue {
                        sleep = min(sleep, .milliseconds(max(1, due - clock.nowMillis())))
                    }
                } catch {
                    logger.warning("promotion failed", metadata: ["queue": "\(queue)", "error": "\(error)"])
                    sleep = .seconds(1)
                }
            }
            try? await Task.sleep(for: sleep)
        }
    }

    func periodicLoop() async {
        // 1 while this scheduler holds the lock: the fleet's sum is 1, and 0 is an alert.
        let leading = Gauge(label: "thepred_scheduler_leader")
        defer { leading.record(0) }
        while !Task.isCancelled {
            var sleep = min(configuration.leaderTTL / 3, .seconds(1))
            do {
                let leads = try await coordinator.lead(holder: holder, ttl: configuration.leaderTTL)
                leading.record(leads ? 1 : 0)
                if leads {
                    if let next = try await runDueTicks() {
                        sleep = min(sleep, .milliseconds(max(1, next - clock.nowMillis())))
                    }
                }
            } catch {
                leading.record(0)
                logger.warning("periodic schedules failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: sleep)
        }
    }

    /// Enqueues the latest due tick of each schedule, once, and returns when the next tick is due.
    /// After downtime only the latest missed tick runs, not every one.
    @discardableResult
    public func runDueTicks() async throws -> Int64? {
        let now = clock.nowMillis()
        var soonest: Int64?
        for schedule in schedules {
            do {
                if let next = try await runDueTick(of: schedule, now: now) { soonest = min(soonest ?? next, next) }
            } catch {
                // One failing schedule must not hold up the others.
                logger.error("periodic schedule failed", metadata: ["schedule": "\(schedule.name)", "error": "\(error)"])
            }
        }
        return soonest
    }

    /// Runs one schedule's latest due tick, if any, and returns its next tick.
    private func runDueTick(of schedule: PeriodicSchedule, now: Int64) async throws -> Int64? {
        guard let last = try await coordinator.lastTick(of: schedule.name) else {
            // A new schedule starts from now rather than firing for a past it never had.
            try await coordinator.recordTick(now, of: schedule.name)
            return schedule.cron.next(after: now)
        }
        var due: Int64?
        var cursor = last
        while let next = schedule.cron.next(after: cursor), next <= now {
            due = next
            cursor = next
        }
        if let due {
            let result = try await schedule.enqueueTick(due, JobClient(driver: driver, clock: clock))
            try await coordinator.recordTick(due, of: schedule.name)
            logger.info(
                "periodic job enqueued",
                metadata: [
                    "schedule": "\(schedule.name)", "tick": "\(due)", "job": "\(result.id)", "duplicate": "\(result.duplicate)",
                ])
        }
        return schedule.cron.next(after: now)
    }
}
