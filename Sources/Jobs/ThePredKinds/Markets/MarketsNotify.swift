import Jobs

/// `markets.notify`: produces a resolved market's "you won / you lost / refunded" messages and its
/// winners' mission events as their queues drain, from a cursor in PostgreSQL.
///
/// `markets.resolve` enqueues it once the market is settled. Each run tops the results queue up to
/// a few seconds' worth of sends, then snoozes; a million-bet market never sits in Redis whole.
public struct MarketsNotify: Codable, Sendable, Equatable {
    /// The resolved market whose messages and events to produce.
    public var marketID: Int64

    /// The producer of `marketID`'s backlog.
    public init(marketID: Int64) { self.marketID = marketID }

    enum CodingKeys: String, CodingKey { case marketID = "market_id" }

    /// Runs are short (one top-up); the job lives as long as the backlog, snoozing in between.
    public static let kind = JobKind<MarketsNotify>(
        "markets.notify", queue: "markets", retry: .exponentialJitter(maxAttempts: 10, maxBackoff: .seconds(60)),
        timeout: .seconds(300))

    /// The key the resolve enqueues it under: one producer per market, however often it resolves.
    public static func idempotencyKey(market: Int64) -> String { "markets.notify:\(market)" }
}
