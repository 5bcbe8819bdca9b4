/// What a consumer says of itself in its heartbeat.
public struct ConsumerInfo: Sendable, Equatable, Codable {
    public var name: String
    public var host: String
    public var pid: Int32
    public var startedAt: Int64
    public var concurrency: Int
    public var inFlight: Int
    public var processed: Int
    /// How long this consumer's jobs stay leased without a renewal (its visibility timeout, ms).
    /// Others reclaim its jobs only after that, whatever their own timeout.
    public var leaseMillis: Int64?
    /// The job kinds it can run; a job of another kind is left for a consumer that can.
    public var kinds: [String]?

    public init(
        name: String, host: String, pid: Int32, startedAt: Int64, concurrency: Int, inFlight: Int, processed: Int,
        leaseMillis: Int64? = nil, kinds: [String]? = nil
    ) {
        self.name = name
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.concurrency = concurrency
        self.inFlight = inFlight
        self.processed = processed
        self.leaseMillis = leaseMillis
        self.kinds = kinds
    }
}
