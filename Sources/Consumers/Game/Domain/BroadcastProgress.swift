import Postgres

/// Marks a broadcast COMPLETED once every queued message has ended.
enum BroadcastProgress {
    /// Run after the transaction that ended a message commits, never inside it: the check of the
    /// last message to commit then sees every other message's count, so one of them completes it.
    static func completeIfDone(_ broadcastID: Int64, db: any PostgresClient) async throws {
        try await db.query(
            PostgresStatement(
                """
                UPDATE broadcasts b SET status = 'COMPLETED', completed_at = now(),
                    sent_count = c.sent, failed_count = c.failed, cancelled_count = c.cancelled
                FROM (SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(failed), 0) AS failed,
                             coalesce(sum(cancelled), 0) AS cancelled
                      FROM broadcast_counts WHERE broadcast_id = $1) c
                WHERE b.id = $1 AND b.status = 'PROCESSING' AND b.fanout_completed_at IS NOT NULL
                  AND c.sent + c.failed + c.cancelled >= b.total_recipients
                """), [.int(broadcastID)])
    }
}
