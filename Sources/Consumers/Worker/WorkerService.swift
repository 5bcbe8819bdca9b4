import Foundation
import Jobs
import Logging
import Producers
import ServiceLifecycle
import Synchronization

/// Runs jobs from one or more queues, up to `concurrency` at once in this process.
///
/// Each queue has a fetch loop that reads only as many jobs as there are free slots, so a job
/// is never held by a worker that cannot start it. Results are batched into few round trips:
/// whatever finished while the previous batch was being written goes out in the next one.
/// On graceful shutdown the worker stops reading, lets in-flight jobs finish within the grace
/// period, acks them, and leaves the rest to be reclaimed by other workers.
public struct WorkerService: Service {
    public typealias Driver = JobQueueDriver & QueueInspectionDriver

    public struct Configuration: Sendable {
        public var queues: [QueueName]
        /// Jobs run at once in this process.
        public var concurrency: Int = 16
        /// Most jobs taken in one read.
        public var fetchBatch: Int = 256
        /// How long one read waits for jobs; also bounds how late a shutdown stops reading.
        public var blockFor: Duration = .milliseconds(250)
        /// A job held this long without a lease renewal is taken over by another worker.
        public var visibilityTimeout: Duration = .seconds(60)
        /// Deliveries after which a job that keeps crashing its workers is buried as poison.
        public var maxDeliveries: Int = 10
        /// How often leases are renewed, the consumer heartbeat is written, and reclaim runs. A
        /// third of the visibility timeout at most (`effectiveHeartbeat`), so a live worker's
        /// leases are renewed before another worker may take its jobs.
        public var heartbeatInterval: Duration = .seconds(5)

        /// The heartbeat interval in force: the configured one, or a third of the visibility
        /// timeout when that is shorter.
        public var effectiveHeartbeat: Duration { min(heartbeatInterval, visibilityTimeout / 3) }
        /// How long in-flight jobs may run on after a shutdown signal.
        public var shutdownGrace: Duration = .seconds(25)
        /// How long a handler may go on after its timeout cancelled it. One that ignores the
        /// cancellation that long is given up (issue 26): its job ends as timed out (retried, or
        /// buried on its last attempt) and its slot is freed, while the handler itself runs on,
        /// since Swift cannot stop a task. Logged as an error and counted in
        /// `thepred_worker_runaway_handlers_total`: a worker with any should be restarted.
        public var runawayAfter: Duration = .seconds(60)
        /// The longest pause between two tries at writing job results while Redis fails.
        public var writeRetryMaxDelay: Duration = .seconds(2)
        /// How long a job that failed on an outage (``OutageError``: Redis or PostgreSQL out of
        /// reach, starting, failing over) waits before it runs again, without using an attempt;
        /// each wait is drawn from this range.
        public var outageWait: ClosedRange<Duration> = .seconds(1) ... .seconds(3)
        /// Outage waits after which an outage counts as an attempt again (with `outageWait`, 10 to
        /// 30 minutes of outage): an error that only looks like an outage cannot loop for ever.
        /// Other snoozes (a producer waiting for its queue to drain) do not count.
        public var outageSnoozeLimit = 600
        /// How long a dead job's `onDead` hook is retried while it fails on an outage, so a send
        /// buried during a database failover still ends its broadcast.
        public var deadHookOutageBudget: Duration = .seconds(180)
        /// The consumer name in the group; unique per process.
        public var consumerName: String
        /// The most jobs of one queue in flight at once, for the queues named; the others share the
        /// rest of `concurrency`. Keeps one class of work (a broadcast's sends, waiting their turn on
        /// the Telegram lane) from holding every slot.
        public var queueConcurrency: [QueueName: Int] = [:]
        /// Runs around every job, outside the handlers' own middleware. Metrics by default.
        public var middleware: [any JobMiddleware] = [MetricsJobMiddleware()]

        public init(queues: [QueueName], consumerName: String? = nil) {
            self.queues = queues
            self.consumerName = consumerName ?? Self.defaultConsumerName()
        }

        public static func defaultConsumerName() -> String {
            "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(String(UInt16.random(in: 0 ... .max), radix: 16))"
        }
    }

    let driver: any Driver
    let handlers: JobHandlers
    let configuration: Configuration
    let clock: any JobClock
    let logger: Logger

    public init(
        driver: any Driver, handlers: JobHandlers, configuration: Configuration, clock: any JobClock = SystemJobClock(),
        logger: Logger = Logger(label: "thepred.worker")
    ) {
        precondition(configuration.concurrency >= 1, "concurrency must be at least 1")
        self.driver = driver
        self.handlers = handlers
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        let runtime = WorkerRuntime(service: self)
        try await runtime.run()
    }
}
