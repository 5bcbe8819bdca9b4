/// A queue's figures as `thepred queues --json` and `GET /v1/admin/queues` show them: one shape,
/// one set of field names.
public struct QueueFiguresView: Encodable, Sendable {
    public let queue: String
    public let ready: Int
    public let delayed: Int
    public let inFlight: Int
    public let dead: Int
    public let consumers: Int
    public let oldestWaitingMillis: Int64?
    public let jobsPerSecond: Double
    /// The live consumers, when asked for (the CLI); omitted otherwise.
    public let liveConsumers: [ConsumerStatus]?

    enum CodingKeys: String, CodingKey {
        case queue, ready, delayed, inFlight = "in_flight", dead, consumers, oldestWaitingMillis = "oldest_waiting_ms"
        case jobsPerSecond = "jobs_per_second", liveConsumers = "live_consumers"
    }

    public init(_ s: QueueStats, liveConsumers: [ConsumerStatus]? = nil) {
        queue = s.queue
        ready = s.ready
        delayed = s.delayed
        inFlight = s.inFlight
        dead = s.dead
        consumers = s.consumers
        oldestWaitingMillis = s.oldestWaitingMillis
        jobsPerSecond = (s.recentRate * 100).rounded() / 100
        self.liveConsumers = liveConsumers
    }
}
