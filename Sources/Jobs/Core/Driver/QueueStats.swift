/// Counts of one queue at one moment.
public struct QueueStats: Sendable, Equatable, Codable {
    public var queue: String
    public var ready: Int
    public var delayed: Int
    public var inFlight: Int
    public var dead: Int
    public var consumers: Int
    /// Age of the oldest job waiting to be fetched, in ms.
    public var oldestWaitingMillis: Int64?
    /// Jobs finished per second over the last minute.
    public var recentRate: Double

    public init(
        queue: String, ready: Int, delayed: Int, inFlight: Int, dead: Int, consumers: Int,
        oldestWaitingMillis: Int64?, recentRate: Double
    ) {
        self.queue = queue
        self.ready = ready
        self.delayed = delayed
        self.inFlight = inFlight
        self.dead = dead
        self.consumers = consumers
        self.oldestWaitingMillis = oldestWaitingMillis
        self.recentRate = recentRate
    }
}
