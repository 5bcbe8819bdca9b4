import Hummingbird
import Jobs
import Logging
import Producers
import Prometheus
import ThePredKinds

/// What the front talks to. It has no database: jobs go to the queue, and broadcast statuses
/// come from the board the workers publish to.
public struct FrontDependencies: Sendable {
    public var driver: any JobQueueDriver & JobStatusDriver & QueueInspectionDriver
    public var board: any BroadcastBoard
    /// Fails when the queue cannot be reached; `/readyz` calls it.
    public var ping: @Sendable () async throws -> Void
    public var registry: PrometheusCollectorRegistry
    public var clock: any JobClock
    /// Keeps the request allowances; in memory unless given (Redis in production, so every
    /// front shares them).
    public var rateLimiter: any RateLimitDriver

    public init(
        driver: any JobQueueDriver & JobStatusDriver & QueueInspectionDriver, board: any BroadcastBoard,
        ping: @escaping @Sendable () async throws -> Void, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        clock: any JobClock = SystemJobClock(), rateLimiter: (any RateLimitDriver)? = nil
    ) {
        self.driver = driver
        self.board = board
        self.ping = ping
        self.registry = registry
        self.clock = clock
        self.rateLimiter = rateLimiter ?? MemoryRateLimitDriver(clock: clock)
    }
}
