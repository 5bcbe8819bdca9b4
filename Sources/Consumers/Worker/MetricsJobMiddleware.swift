import Jobs
import Metrics

/// Reports swift-metrics figures per queue and kind: outcomes, run time and queue wait.
public struct MetricsJobMiddleware: JobMiddleware {
    private let metrics = WorkerMetrics()
    private let clock: any JobClock

    public init(clock: any JobClock = SystemJobClock()) { self.clock = clock }

    public func run(_ job: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        let m = metrics.kind(job.kind, queue: job.queue)
        m.queueWait.recordMilliseconds(max(0, clock.nowMillis() - (job.notBefore ?? job.enqueuedAt)))
        let start = ContinuousClock.now
        defer { m.duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds) }
        try await next(job)
    }

    public func ended(_ end: JobEnd) {
        let m = metrics.kind(end.kind, queue: end.queue)
        switch end.outcome {
        case .succeeded:
            m.processed.increment()
        case .retry:
            m.failed.increment()
            m.retried.increment()
        case .snooze:
            m.snoozed.increment()
        case .rejected:
            m.rejected.increment()
        case .dead:
            m.failed.increment()
            m.dead.increment()
        }
    }
}
