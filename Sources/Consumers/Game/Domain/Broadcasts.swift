import Foundation
import Jobs
import Postgres
import Producers
import ThePredKinds

/// Creating, reading and cancelling broadcasts. The CLI calls these directly; the front reaches
/// `create` through a `broadcast.create` job.
public enum Broadcasts {
    /// Records the broadcast and queues its fan-out, delayed until `scheduled_at` when it has one.
    /// With a `requestID`, a repeat returns the broadcast the first call made.
    public static func create(
        _ request: BroadcastRequest, requestID: String? = nil, db: any PostgresClient, client: JobClient,
        now: Int64 = SystemJobClock().nowMillis()
    ) async throws -> BroadcastStatus {
        try request.validate(now: now)
        let rows = try await db.query(
            """
            WITH made AS (
                INSERT INTO broadcasts (text, parse_mode, photo_url, target, telegram_id, paid, scheduled_at, request_id)
                VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint / 1000.0), $8)
                ON CONFLICT (request_id) DO NOTHING
                RETURNING id, job_id)
            SELECT id, job_id FROM made
            UNION ALL SELECT id, job_id FROM broadcasts WHERE request_id = $8
            """,
            [
                .text(request.text), .text(request.parseMode.rawValue), request.photoURL.map { .text($0) } ?? .null,
                .text(request.target.rawValue), request.telegramID.map { .int($0) } ?? .null, .bool(request.paid ?? false),
                request.scheduledAtMillis.map { .int($0) } ?? .null, requestID.map { .text($0) } ?? .null,
            ])
        let id = try rows.int(0, "id")
        if rows[0, "job_id"] == nil {
            // A repeat after a crash here enqueues again; the key makes it the same job.
            var options = EnqueueOptions.idempotent(BroadcastFanout.idempotencyKey(broadcast: id))
            options.notBefore = request.scheduledAtMillis
            let job = try await client.enqueue(BroadcastFanout.kind, BroadcastFanout(broadcastID: id), options: options)
            try await db.query("UPDATE broadcasts SET job_id = $2 WHERE id = $1", [.int(id), .text(job.id.rawValue)])
        }
        guard let made = try await status(id, db: db) else { throw JobsError(.notFound, "broadcast \(id) vanished") }
        return made
    }

    /// Cancels a broadcast that has not finished: before it starts nothing is sent; during
    /// fan-out or sending, the messages not yet sent are dropped. Nil when there is no such broadcast.
    public static func cancel(_ id: Int64, db: any PostgresClient) async throws -> BroadcastStatus? {
        try await db.query(
            "UPDATE broadcasts SET status = 'CANCELLED', cancelled_at = now() WHERE id = $1 AND status IN ('PENDING', 'PROCESSING')",
            [.int(id)])
        return try await status(id, db: db)
    }

    /// Recipients of broadcasts being fanned out who are not queued yet: the bulk class's backlog
    /// that is not in Redis. Counted from each fan-out's checkpoint, as the fan-out will find them.
    public static func unproduced(db: any PostgresClient) async throws -> Int64 {
        try await db.query(
            """
            SELECT coalesce(sum((SELECT count(*) FROM users u WHERE u.id > b.fanout_after_user_id AND NOT u.banned AND NOT u.unreachable)),
                            0)::bigint AS n
              FROM broadcasts b
             WHERE b.status = 'PROCESSING' AND b.fanout_completed_at IS NULL AND b.target = 'all'
            """
        ).int(0, "n")
    }

    static let columns = """
        b.id, b.status, b.text, b.parse_mode, b.photo_url, b.target, b.telegram_id, b.paid, b.job_id,
        (extract(epoch FROM b.scheduled_at) * 1000)::bigint AS scheduled_at,
        (extract(epoch FROM b.created_at) * 1000)::bigint AS created_at,
        (extract(epoch FROM b.started_at) * 1000)::bigint AS started_at,
        (extract(epoch FROM b.completed_at) * 1000)::bigint AS completed_at,
        (extract(epoch FROM b.cancelled_at) * 1000)::bigint AS cancelled_at,
        b.fanout_completed_at IS NOT NULL AS fanout_done, b.total_recipients,
        coalesce(c.sent, 0) AS sent, coalesce(c.failed, 0) AS failed, coalesce(c.cancelled, 0) AS cancelled
        FROM broadcasts b
        LEFT JOIN LATERAL (SELECT sum(sent) AS sent, sum(failed) AS failed, sum(cancelled) AS cancelled
                           FROM broadcast_counts WHERE broadcast_id = b.id) c ON true
        """

    public static func status(_ id: Int64, db: any PostgresClient) async throws -> BroadcastStatus? {
        let rows = try await db.query("SELECT \(columns) WHERE b.id = $1", [.int(id)])
        return rows.isEmpty ? nil : try decode(rows, 0)
    }

    /// The newest first; `status` filters.
    public static func list(status: BroadcastStatus.State? = nil, limit: Int = 50, db: any PostgresClient) async throws -> [BroadcastStatus]
    {
        let rows = try await db.query(
            "SELECT \(columns) WHERE ($1::text IS NULL OR b.status = $1) ORDER BY b.id DESC LIMIT $2",
            [status.map { .text($0.rawValue) } ?? .null, .int(Int64(limit))])
        return try (0..<rows.count).map { try decode(rows, $0) }
    }

    static func state(_ rows: PostgresRows, _ i: Int) throws -> BroadcastStatus.State {
        let text = try rows.string(i, "status")
        guard let state = BroadcastStatus.State(rawValue: text) else {
            throw JobsError(.encoding, "broadcast status \(text) is not one this build knows")
        }
        return state
    }

    static func decode(_ rows: PostgresRows, _ i: Int) throws -> BroadcastStatus {
        BroadcastStatus(
            id: try rows.int(i, "id"), status: try state(rows, i), text: try rows.string(i, "text"),
            parseMode: try rows.string(i, "parse_mode"), photoURL: rows[i, "photo_url"], target: try rows.string(i, "target"),
            telegramID: rows.optionalInt(i, "telegram_id"), paid: rows.bool(i, "paid"), scheduledAt: rows.optionalInt(i, "scheduled_at"),
            createdAt: try rows.int(i, "created_at"), startedAt: rows.optionalInt(i, "started_at"),
            completedAt: rows.optionalInt(i, "completed_at"), cancelledAt: rows.optionalInt(i, "cancelled_at"),
            fanoutDone: rows.bool(i, "fanout_done"), total: try rows.int(i, "total_recipients"), sent: try rows.int(i, "sent"),
            failed: try rows.int(i, "failed"), cancelled: try rows.int(i, "cancelled"),
            pending: max(0, try rows.int(i, "total_recipients") - rows.int(i, "sent") - rows.int(i, "failed") - rows.int(i, "cancelled")),
            jobID: rows[i, "job_id"])
    }
}
