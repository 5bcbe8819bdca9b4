import Jobs

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

    /// The key the broadcast's first fan-out is enqueued under: one producer per broadcast.
    public static func idempotencyKey(broadcast: Int64) -> String { "broadcast:\(broadcast)" }
}
