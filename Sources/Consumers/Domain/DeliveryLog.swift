import Jobs

/// The send log: one `telegram_deliveries` row per `telegram.send` job id, so support can tell
/// whether user X got message Y, and a redelivered job does not send a message twice.
///
/// SENDING (claimed) -> SENT | FAILED (will retry) | PERMANENT_FAILURE | CANCELLED.
/// SENT and CANCELLED are final: nothing changes them.
enum DeliveryLog {
    enum Status: String {
        case sending = "SENDING", sent = "SENT", failed = "FAILED", permanentFailure = "PERMANENT_FAILURE"
        case cancelled = "CANCELLED"
    }

    /// Counter shards per broadcast; see broadcast_counts in 0003_telegram.sql.
    static let shards: Int64 = 16

    struct Claim {
        let status: Status
        let broadcastStatus: String?
    }

    /// Makes the job's row if it is new, and returns its status and its broadcast's.
    static func claim(_ id: JobID, _ p: TelegramSend, db: any PostgresClient) async throws -> Claim {
        let rows = try await db.query(
            """
            WITH claimed AS (
                INSERT INTO telegram_deliveries AS d (job_id, telegram_id, kind, broadcast_id, status)
                VALUES ($1, $2, $3, $4, 'SENDING')
                ON CONFLICT (job_id) DO UPDATE SET updated_at = now()
                RETURNING d.status)
            SELECT claimed.status, (SELECT status FROM broadcasts WHERE id = $4::bigint) AS broadcast_status FROM claimed
            """,
            [.text(id.rawValue), .int(p.telegramID), .text(p.kind.rawValue), p.broadcastID.map { .int($0) } ?? .null])
        let status = try rows.string(0, "status")
        return Claim(status: Status(rawValue: status) ?? .sending, broadcastStatus: rows[0, "broadcast_status"])
    }

    /// Moves the row to `status` unless it is already final. Returns whether it moved. A broadcast's
    /// counters change in the same transaction, so they count each message once, and a message that
    /// ends its broadcast completes it.
    @discardableResult
    static func record(
        _ id: JobID, _ p: TelegramSend, status: Status, attempted: Bool, error: String?, messageID: Int64? = nil,
        db: any PostgresClient
    ) async throws -> Bool {
        let update = """
            UPDATE telegram_deliveries
            SET status = $2, attempts = attempts + $3, last_error = $4, message_id = coalesce($5::bigint, message_id),
                sent_at = CASE WHEN $2 = 'SENT' THEN now() ELSE sent_at END, updated_at = now()
            WHERE job_id = $1 AND status NOT IN ('SENT', 'CANCELLED')
            """
        let params: [PostgresValue] = [
            .text(id.rawValue), .text(status.rawValue), .int(attempted ? 1 : 0), error.map { .text(String($0.prefix(1000))) } ?? .null,
            messageID.map { .int($0) } ?? .null,
        ]
        guard let broadcastID = p.broadcastID else {
            return try await db.query(update + " RETURNING job_id", params).count > 0
        }
        let shard = ((p.telegramID % shards) + shards) % shards
        let moved = try await db.transaction { tx in
            let old = try tx.query("SELECT status FROM telegram_deliveries WHERE job_id = $1 FOR UPDATE", [.text(id.rawValue)])
            guard let before = old[0, "status"].flatMap(Status.init(rawValue:)), before != .sent, before != .cancelled else {
                return false
            }
            try tx.query(update, params)
            func delta(_ s: Status) -> Int64 { (status == s ? 1 : 0) - (before == s ? 1 : 0) }
            let (sent, failed, cancelled) = (delta(.sent), delta(.permanentFailure), delta(.cancelled))
            if sent != 0 || failed != 0 || cancelled != 0 {
                try tx.query(
                    """
                    INSERT INTO broadcast_counts (broadcast_id, shard, sent, failed, cancelled) VALUES ($1, $2, $3, $4, $5)
                    ON CONFLICT (broadcast_id, shard) DO UPDATE SET sent = broadcast_counts.sent + EXCLUDED.sent,
                        failed = broadcast_counts.failed + EXCLUDED.failed, cancelled = broadcast_counts.cancelled + EXCLUDED.cancelled
                    """, [.int(broadcastID), .int(shard), .int(sent), .int(failed), .int(cancelled)])
            }
            return true
        }
        // After the commit, never inside it; see BroadcastProgress.
        if moved && status != .failed && status != .sending { try await BroadcastProgress.completeIfDone(broadcastID, db: db) }
        return moved
    }

    /// Notes an error that leaves the status as it is (a 429).
    static func note(_ id: JobID, error: String, db: any PostgresClient) async throws {
        try await db.query(
            "UPDATE telegram_deliveries SET last_error = $2, updated_at = now() WHERE job_id = $1 AND status NOT IN ('SENT', 'CANCELLED')",
            [.text(id.rawValue), .text(error)])
    }
}
