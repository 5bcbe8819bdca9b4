import Postgres

/// A resolved market's notification backlog in PostgreSQL: the cursor `markets.notify` walks,
/// the winners whose mission events are still to queue, and the counts of what was sent.
public enum MarketNotificationBacklog {
    /// Opens the backlog of a market that has just resolved, in the transaction that resolved it.
    static func open(_ marketID: Int64, in tx: PostgresConnection.Transaction) throws {
        try tx.query(
            """
            INSERT INTO market_notifications (market_id, total_bets)
            SELECT $1, count(*) FROM bets WHERE market_id = $1
            ON CONFLICT (market_id) DO NOTHING
            """, [.int(marketID)])
        try tx.query(
            """
            INSERT INTO settlement_winners (market_id, user_id)
            SELECT DISTINCT $1::bigint, user_id FROM bets WHERE market_id = $1 AND status = 'WON'
            ON CONFLICT DO NOTHING
            """, [.int(marketID)])
    }

    /// Nil when the market has no backlog (it is not resolved, or was resolved before 0005).
    public static func status(_ marketID: Int64, db: any PostgresClient) async throws -> MarketNotificationStatus? {
        let rows = try await db.query(
            """
            SELECT n.market_id, n.total_bets, n.skipped, n.queued,
                   coalesce(c.sent, 0) AS sent, coalesce(c.failed, 0) AS failed,
                   (SELECT count(*) FROM settlement_winners w WHERE w.market_id = n.market_id) AS events_left,
                   (extract(epoch FROM n.created_at) * 1000)::bigint AS created_at,
                   (extract(epoch FROM n.produced_at) * 1000)::bigint AS produced_at
              FROM market_notifications n
              LEFT JOIN LATERAL (SELECT sum(sent) AS sent, sum(failed) AS failed
                                   FROM market_notification_counts WHERE market_id = n.market_id) c ON true
             WHERE n.market_id = $1
            """, [.int(marketID)])
        guard !rows.isEmpty else { return nil }
        return MarketNotificationStatus(
            marketID: try rows.int(0, "market_id"), totalBets: try rows.int(0, "total_bets"), skipped: try rows.int(0, "skipped"),
            queued: try rows.int(0, "queued"), sent: try rows.int(0, "sent"), failed: try rows.int(0, "failed"),
            eventsLeft: try rows.int(0, "events_left"), createdAt: try rows.int(0, "created_at"),
            producedAt: rows.optionalInt(0, "produced_at"))
    }

    /// Messages of every market still to produce: the results class's backlog that is not in Redis.
    public static func unproduced(db: any PostgresClient) async throws -> Int64 {
        try await db.query(
            """
            SELECT coalesce(sum(greatest(0, total_bets - skipped - queued)), 0)::bigint AS n
              FROM market_notifications WHERE produced_at IS NULL
            """
        ).int(0, "n")
    }
}
