import Foundation
import Jobs
import Postgres
import Synchronization
import ThePredKinds

/// The send log and the exclusive claim on a message: one `telegram_deliveries` row per message
/// effect (the key it was queued under, such as `notify:bet:42`; the job id for a message queued
/// without one), so support can tell whether user X got message Y, and neither a redelivered job
/// nor a job made again later for the same effect sends it twice.
///
/// Status is the last outcome: SENDING (new, not yet answered), FAILED (will retry), SENT,
/// PERMANENT_FAILURE, CANCELLED, AMBIGUOUS (no answer, and the request may have arrived).
/// SENT, CANCELLED and AMBIGUOUS are final: nothing changes them and nothing sends again.
/// PERMANENT_FAILURE is final for any other job; the same job id (a dead letter retried by an
/// operator) may try again.
///
/// Sending needs the claim: `claim_owner` names one run (job id and a random token) and
/// `claim_expires_at` ends it. A run that finds a live claim of another does not send; a claim
/// whose owner died expires and is taken over. Every time is PostgreSQL's clock.
enum DeliveryLog {
    enum Status: String {
        case sending = "SENDING", sent = "SENT", failed = "FAILED", permanentFailure = "PERMANENT_FAILURE"
        case cancelled = "CANCELLED", ambiguous = "AMBIGUOUS"

        /// Whether no run may send the message again, whichever job it is.
        var isFinal: Bool { self == .sent || self == .cancelled || self == .ambiguous }
        /// Counted as failed in its broadcast: it ended without a confirmed delivery.
        var countsAsFailed: Bool { self == .permanentFailure || self == .ambiguous }
    }

    /// Counter shards per broadcast; see broadcast_counts in 0003_telegram.sql.
    static let shards: Int64 = 16

    struct Claim {
        enum Outcome: Equatable {
            /// This run holds the claim and may send.
            case claimed
            /// The message has ended: do not send.
            case ended(Status)
            /// Another run holds a live claim for this long.
            case busy(Duration)
        }

        let outcome: Outcome
        /// The row's job id: this job's, or that of the first job for the same effect.
        let row: String
        let owner: String
        let broadcastStatus: String?
    }

    /// The key that names a message's effect: the one it was queued under, or for a broadcast
    /// message (always queued under `broadcast:<id>:<telegram id>`) that key rebuilt.
    static func effectKey(_ p: TelegramSend, queuedUnder key: String?) -> String? {
        key ?? p.broadcastID.map { "broadcast:\($0):\(p.telegramID)" }
    }

    /// A claim owner's name, unique per run: two runs of one job never share a claim.
    static func owner(for job: JobID) -> String { "\(job.rawValue):\(UInt64.random(in: 0 ... .max))" }

    /// Takes the claim on the message for `owner` until `lease` from now, or says why not.
    static func claim(
        _ id: JobID, _ p: TelegramSend, effectKey: String?, owner: String, lease: Duration, db: any PostgresClient
    ) async throws -> Claim {
        let leaseMillis = PostgresValue.int(lease.milliseconds)
        let key = effectKey.map { PostgresValue.text($0) } ?? .null
        let broadcast = p.broadcastID.map { PostgresValue.int($0) } ?? .null
        // The common case, a first run, in one round trip.
        let made = try await db.query(
            PostgresStatement(
                """
                WITH made AS (
                    INSERT INTO telegram_deliveries (job_id, telegram_id, kind, broadcast_id, status, effect_key, claim_owner, claim_expires_at)
                    VALUES ($1, $2, $3, $4, 'SENDING', $5, $6, clock_timestamp() + make_interval(secs => $7::bigint / 1000.0))
                    ON CONFLICT DO NOTHING
                    RETURNING job_id)
                SELECT job_id, (SELECT status FROM broadcasts WHERE id = $4::bigint) AS broadcast_status FROM made
                """),
            [.text(id.rawValue), .int(p.telegramID), .text(p.kind.rawValue), broadcast, key, .text(owner), leaseMillis])
        if !made.isEmpty {
            return Claim(outcome: .claimed, row: id.rawValue, owner: owner, broadcastStatus: made[0, "broadcast_status"])
        }
        return try await db.transaction { tx in
            let rows = try tx.query(
                """
                SELECT job_id, status, effect_key,
                       claim_owner IS NOT NULL AND claim_expires_at > clock_timestamp() AS held,
                       (extract(epoch FROM claim_expires_at - clock_timestamp()) * 1000)::bigint AS held_ms,
                       (SELECT status FROM broadcasts WHERE id = $3::bigint) AS broadcast_status
                  FROM telegram_deliveries WHERE job_id = $1 OR effect_key = $2
                 ORDER BY job_id = $1 DESC FOR UPDATE
                """, [.text(id.rawValue), key, broadcast])
            guard !rows.isEmpty else {
                // The conflicting row was there a moment ago and is gone: nothing deletes rows, so
                // this is a transient oddity (a concurrent rollback); the job runs again.
                throw JobsError(.conflict, "delivery row for \(id) vanished while claiming")
            }
            let broadcastStatus = rows[0, "broadcast_status"]
            // Any final row for the effect ends it, whichever job wrote it.
            for r in 0..<rows.count {
                let status = Status(rawValue: try rows.string(r, "status")) ?? .sending
                let mine = rows[r, "job_id"] == id.rawValue
                if status.isFinal || (status == .permanentFailure && !mine) {
                    return Claim(outcome: .ended(status), row: try rows.string(r, "job_id"), owner: owner, broadcastStatus: broadcastStatus)
                }
            }
            let row = try rows.string(0, "job_id")
            if rows.bool(0, "held") {
                let left = Duration.milliseconds(max(0, rows.optionalInt(0, "held_ms") ?? 0))
                return Claim(outcome: .busy(left), row: row, owner: owner, broadcastStatus: broadcastStatus)
            }
            // A row this job made before its key was known takes the key, unless another row has it.
            let adopt = rows.count == 1 && rows[0, "effect_key"] == nil
            try tx.query(
                """
                UPDATE telegram_deliveries
                   SET claim_owner = $2, claim_expires_at = clock_timestamp() + make_interval(secs => $3::bigint / 1000.0),
                       effect_key = CASE WHEN $5 THEN coalesce(effect_key, $4) ELSE effect_key END, updated_at = now()
                 WHERE job_id = $1
                """, [.text(row), .text(owner), leaseMillis, key, .bool(adopt)])
            return Claim(outcome: .claimed, row: row, owner: owner, broadcastStatus: broadcastStatus)
        }
    }

    /// Moves the row to `status` unless it is final, and ends the claim. With an `owner`, only
    /// while that owner still holds the claim (a run whose lease passed must not overwrite the
    /// outcome of the run that took over); without, whoever holds it: for what is true whoever
    /// sent (SENT, AMBIGUOUS) and for a job that has ended. Returns whether it moved.
    ///
    /// One statement, so the SENT write after Telegram's answer is one round trip: the row, and
    /// its broadcast's or market's counters, which count each message once. A message that ends its
    /// broadcast completes it, after the commit.
    @discardableResult
    static func record(
        _ row: String, _ p: TelegramSend, status: Status, owner: String?, attempted: Bool, error: String?,
        messageID: Int64? = nil, db: any PostgresClient
    ) async throws -> Bool {
        let shard = ((p.telegramID % shards) + shards) % shards
        let moved =
            try await db.query(
                PostgresStatement(
                    """
                    WITH moved AS (
                        UPDATE telegram_deliveries d
                           SET status = $2, attempts = d.attempts + $3, last_error = $4, message_id = coalesce($5::bigint, d.message_id),
                               sent_at = CASE WHEN $2 = 'SENT' THEN now() ELSE d.sent_at END, updated_at = now(),
                               claim_owner = NULL, claim_expires_at = NULL
                          FROM (SELECT job_id, status FROM telegram_deliveries
                                 WHERE job_id = $1 AND status NOT IN ('SENT', 'CANCELLED', 'AMBIGUOUS')
                                   AND ($6::text IS NULL OR claim_owner = $6)
                                   FOR UPDATE) old
                         WHERE d.job_id = old.job_id
                        RETURNING old.status AS before),
                    delta AS (
                        SELECT ($2 = 'SENT')::int - (before = 'SENT')::int AS sent,
                               ($2 IN ('PERMANENT_FAILURE', 'AMBIGUOUS'))::int - (before IN ('PERMANENT_FAILURE', 'AMBIGUOUS'))::int AS failed,
                               ($2 = 'CANCELLED')::int - (before = 'CANCELLED')::int AS cancelled
                          FROM moved),
                    counted AS (
                        INSERT INTO broadcast_counts AS c (broadcast_id, shard, sent, failed, cancelled)
                        SELECT $7::bigint, $8::smallint, sent, failed, cancelled FROM delta
                         WHERE $7::bigint IS NOT NULL AND (sent <> 0 OR failed <> 0 OR cancelled <> 0)
                        ON CONFLICT (broadcast_id, shard) DO UPDATE
                           SET sent = c.sent + EXCLUDED.sent, failed = c.failed + EXCLUDED.failed, cancelled = c.cancelled + EXCLUDED.cancelled
                        RETURNING 1),
                    market_counted AS (
                        INSERT INTO market_notification_counts AS c (market_id, shard, sent, failed)
                        SELECT $9::bigint, $8::smallint, sent, failed FROM delta
                         WHERE $9::bigint IS NOT NULL AND (sent <> 0 OR failed <> 0)
                        ON CONFLICT (market_id, shard) DO UPDATE SET sent = c.sent + EXCLUDED.sent, failed = c.failed + EXCLUDED.failed
                        RETURNING 1)
                    SELECT before, (SELECT count(*) FROM counted) + (SELECT count(*) FROM market_counted) AS counted FROM moved
                    """),
                [
                    .text(row), .text(status.rawValue), .int(attempted ? 1 : 0), error.map { .text(String($0.prefix(1000))) } ?? .null,
                    messageID.map { .int($0) } ?? .null, owner.map { .text($0) } ?? .null, p.broadcastID.map { .int($0) } ?? .null,
                    .int(shard), p.marketID.map { .int($0) } ?? .null,
                ]
            ).count > 0
        // After the commit, never inside it; see BroadcastProgress.
        if moved, let broadcastID = p.broadcastID, status != .failed, status != .sending {
            try await BroadcastProgress.completeIfDone(broadcastID, db: db)
        }
        return moved
    }

    /// Ends `owner`'s claim without an outcome (snoozed, or stopped before sending), so the next
    /// run need not wait for the lease; `error` notes why (a 429).
    static func release(_ row: String, owner: String, error: String? = nil, db: any PostgresClient) async throws {
        try await db.query(
            PostgresStatement(
                """
                UPDATE telegram_deliveries SET claim_owner = NULL, claim_expires_at = NULL, last_error = coalesce($3, last_error),
                       updated_at = now()
                 WHERE job_id = $1 AND claim_owner = $2
                """), [.text(row), .text(owner), error.map { .text($0) } ?? .null])
    }

    /// For the `onDead` hook: the job is being buried, so its message ends PERMANENT_FAILURE
    /// (SENT if this process knows Telegram accepted it) unless it already ended, and its
    /// broadcast can complete. A job buried before it made a row gets one, so the broadcast
    /// counts it. Idempotent.
    static func bury(_ id: JobID, _ p: TelegramSend, effectKey key: String?, reason: String, db: any PostgresClient) async throws {
        let find = "SELECT job_id, status FROM telegram_deliveries WHERE job_id = $1 OR effect_key = $2 ORDER BY job_id = $1 DESC LIMIT 1"
        let params: [PostgresValue] = [.text(id.rawValue), key.map { .text($0) } ?? .null]
        var rows = try await db.query(find, params)
        if rows.isEmpty {
            try await db.query(
                """
                INSERT INTO telegram_deliveries (job_id, telegram_id, kind, broadcast_id, status, effect_key)
                SELECT $1, $2, $3, $4::bigint, 'SENDING', $5
                 WHERE $4::bigint IS NULL OR EXISTS (SELECT 1 FROM broadcasts WHERE id = $4::bigint)
                ON CONFLICT DO NOTHING
                """,
                [
                    .text(id.rawValue), .int(p.telegramID), .text(p.kind.rawValue), p.broadcastID.map { .int($0) } ?? .null,
                    key.map { .text($0) } ?? .null,
                ])
            // Made here, or by a run for the same effect that got there first.
            rows = try await db.query(find, params)
            guard !rows.isEmpty else { return }  // its broadcast does not exist
        }
        let row = try rows.string(0, "job_id")
        let status = Status(rawValue: try rows.string(0, "status")) ?? .sending
        if let unlogged = AcceptedUnlogged.peek(row) {
            // Forgotten only once written: a failed write here leaves it for a later run.
            try await record(
                row, p, status: unlogged.status, owner: nil, attempted: true,
                error: unlogged.status == .ambiguous ? "no answer from Telegram" : nil, messageID: unlogged.messageID, db: db)
            AcceptedUnlogged.forget(row)
        } else if !status.isFinal && status != .permanentFailure {
            try await record(row, p, status: .permanentFailure, owner: nil, attempted: false, error: reason, db: db)
        }
        // Also when the message had ended before: the broadcast may be waiting on nothing else.
        if let broadcastID = p.broadcastID { try await BroadcastProgress.completeIfDone(broadcastID, db: db) }
    }
}
