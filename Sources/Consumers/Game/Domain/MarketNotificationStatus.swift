/// How far a resolved market's settlement notifications are: what `thepred markets notifications` shows.
public struct MarketNotificationStatus: Sendable, Equatable, Encodable {
    /// The market.
    public let marketID: Int64
    /// One message per bet of the market when it resolved …
    public let totalBets: Int64
    /// … less those to users who blocked the bot, which are skipped.
    public let skipped: Int64
    /// Messages queued so far; the rest are produced as the results lane drains.
    public let queued: Int64
    /// Confirmed by Telegram.
    public let sent: Int64
    /// Ended without a confirmed delivery (permanent failures, ambiguous answers).
    public let failed: Int64
    /// Winners whose mission event is not queued yet.
    public let eventsLeft: Int64
    /// When the market resolved and its backlog opened (Unix ms).
    public let createdAt: Int64
    /// When the last message was queued (Unix ms); nil while some are still to produce.
    public let producedAt: Int64?

    /// Not produced yet: still in PostgreSQL.
    public var toProduce: Int64 { max(0, totalBets - skipped - queued) }
    /// Neither sent nor failed: queued in Redis, or not produced yet.
    public var pending: Int64 { max(0, totalBets - skipped - sent - failed) }

    enum CodingKeys: String, CodingKey {
        case marketID = "market_id", totalBets = "total_bets", skipped, queued, sent, failed, eventsLeft = "events_left"
        case createdAt = "created_at", producedAt = "produced_at", toProduce = "to_produce", pending
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(marketID, forKey: .marketID)
        try c.encode(totalBets, forKey: .totalBets)
        try c.encode(skipped, forKey: .skipped)
        try c.encode(queued, forKey: .queued)
        try c.encode(sent, forKey: .sent)
        try c.encode(failed, forKey: .failed)
        try c.encode(toProduce, forKey: .toProduce)
        try c.encode(pending, forKey: .pending)
        try c.encode(eventsLeft, forKey: .eventsLeft)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(producedAt, forKey: .producedAt)
    }
}
