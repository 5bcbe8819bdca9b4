import Jobs

/// `broadcast.cancel`: cancels a broadcast that has not finished, for producers without a
/// database (the HTTP front). Before it starts nothing is sent; during fan-out or sending, the
/// messages not yet sent are dropped. Cancelling twice, or a finished broadcast, changes nothing.
public struct BroadcastCancel: Codable, Sendable, Equatable {
    public var broadcastID: Int64

    public init(broadcastID: Int64) { self.broadcastID = broadcastID }

    enum CodingKeys: String, CodingKey { case broadcastID = "broadcast_id" }

    public static let kind = JobKind<BroadcastCancel>(
        "broadcast.cancel", queue: "broadcasts", retry: .exponentialJitter(maxAttempts: 10, maxBackoff: .seconds(60)),
        timeout: .seconds(30))
}
