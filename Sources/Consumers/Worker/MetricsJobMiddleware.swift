import Jobs
import Metrics

/// Reports swift-metrics figures per queue and kind: outcomes, run time and queue wait.
public struct MetricsJobMiddleware: JobMiddleware {
    private let metrics = WorkerMetrics()
    private let clock: any JobClock

    public init(clock: any JobClock = SystemJobClock()) { self.clock = clock }

    public func run(_ job: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        metrics.queueWait(job.queue).recordMilliseconds(max(0, clock.nowMillis() - (job.notBefore ?? job.enqueuedAt)))
        let start = ContinuousClock.now
        defer { metrics.kind(job.kind, queue: job.queue).duration.recordNanoseconds((ContinuousClock.now - start).nanoseconds) }
        try await next(job)
    }

    public func ended(_ end: JobEnd) {
        metrics.kind(end.kind, queue: end.queue).outcomes[Self.outcome(end)]?.increment()
    }

    /// A run that timed out and will run again is a `timeout`; one that timed out on its last
    /// attempt is `dead`, which is what an operator must act on.
    static func outcome(_ end: JobEnd) -> WorkerMetrics.Outcome {
        switch end.outcome {
        case .succeeded: .succeeded
        case .retry: end.timedOut ? .timeout : .retried
        case .snooze: .snoozed
        case .rejected: .rejected
        case .dead: .dead
        }
    }
}
