/// `broadcast.fanout`: queues one `telegram.send` per recipient of a broadcast, in chunks, with a
/// checkpoint after each, so a fan-out stopped halfway resumes without queuing anyone twice.
/// A scheduled broadcast is this job, delayed until its time.
public struct BroadcastFanout: Codable, Sendable, Equatable {
    public var broadcastID: Int64

    public init(broadcastID: Int64) { self.broadcastID = broadcastID }

    enum CodingKeys: String, CodingKey { case broadcastID = "broadcast_id" }

    public static let kind = JobKind<BroadcastFanout>(
        "broadcast.fanout", queue: "broadcasts", retry: .exponentialJitter(maxAttempts: 10, maxBackoff: .seconds(60)),
        timeout: .seconds(1800))
}

/// `broadcast.create`: records a broadcast and starts or schedules its fan-out. For producers
/// without a database (the HTTP front); the job id makes a repeated request create it once.
public struct BroadcastCreate: Codable, Sendable, Equatable {
    public var request: BroadcastRequest

    public init(request: BroadcastRequest) { self.request = request }

    public init(from decoder: any Decoder) throws { request = try BroadcastRequest(from: decoder) }
    public func encode(to encoder: any Encoder) throws { try request.encode(to: encoder) }

    public static let kind = JobKind<BroadcastCreate>(
        "broadcast.create", queue: "broadcasts", retry: .exponentialJitter(maxAttempts: 10, maxBackoff: .seconds(60)),
        timeout: .seconds(60))
}
