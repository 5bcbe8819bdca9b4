import Jobs

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
