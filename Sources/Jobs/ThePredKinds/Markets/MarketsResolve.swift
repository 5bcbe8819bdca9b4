import Jobs

/// `markets.resolve`: settles every pending bet of a market as YES, NO or CANCELLED.
///
/// Works in chunks, each its own transaction, so it can be resumed: a redelivered job, or another
/// job with the same result, continues where the last committed chunk ended. A market that is
/// already resolved, or being resolved with another result, is a permanent failure.
public struct MarketsResolve: Codable, Sendable, Equatable {
    public enum Result: String, Codable, Sendable, CaseIterable {
        case yes = "YES", no = "NO", cancelled = "CANCELLED"
    }

    public var marketID: Int64
    public var result: Result

    public init(marketID: Int64, result: Result) {
        self.marketID = marketID
        self.result = result
    }

    enum CodingKeys: String, CodingKey { case marketID = "market_id", result }

    /// A million bets take seconds, not minutes; the lease is renewed while it runs.
    public static let kind = JobKind<MarketsResolve>(
        "markets.resolve", queue: "markets", retry: .exponentialJitter(maxAttempts: 10, maxBackoff: .seconds(120)),
        timeout: .seconds(3600))
}
