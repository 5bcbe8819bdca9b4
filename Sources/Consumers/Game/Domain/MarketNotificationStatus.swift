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
    public let toProduce: Int64
    /// Neither sent nor failed: queued in Redis, or not produced yet.
    public let pending: Int64

    init(
        marketID: Int64, totalBets: Int64, skipped: Int64, queued: Int64, sent: Int64, failed: Int64, eventsLeft: Int64,
        createdAt: Int64, producedAt: Int64?
    ) {
        self.marketID = marketID
        self.totalBets = totalBets
        self.skipped = skipped
        self.queued = queued
        self.sent = sent
        self.failed = failed
        self.eventsLeft = eventsLeft
        self.createdAt = createdAt
        self.producedAt = producedAt
        toProduce = max(0, totalBets - skipped - queued)
        pending = max(0, totalBets - skipped - sent - failed)
    }

    enum CodingKeys: String, CodingKey {
        case marketID = "market_id", totalBets = "total_bets", skipped, queued, sent, failed, toProduce = "to_produce", pending
        case eventsLeft = "events_left", createdAt = "created_at", producedAt = "produced_at"
    }
}
