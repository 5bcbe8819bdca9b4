import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Closes one leaderboard period: ranks it, writes the snapshot, pays the reward tiers.
///
/// The period's row is created if missing and locked, and `closed_at` is set in the same
/// transaction as the snapshot and the rewards, so two jobs for one period close it once: the
/// second finds it closed and does nothing. Rewards are ledger rows keyed
/// `leaderboard:<period>:<user>`.
struct LeaderboardCloseHandler: Sendable {
    let db: any PostgresClient
    /// Snapshot rows when the job does not say.
    var defaultTop: Int
    /// A period that ends within this long by PostgreSQL's clock is waited for (a scheduler whose
    /// clock runs ahead); one that ends later is refused, as a request made too early.
    var waitLimit: Duration = .seconds(3600)

    /// The instants a period may start at: 1970-01-01 to 9999-12-01 UTC. Outside them the
    /// calendar arithmetic could overflow, and no such period has bets.
    static let startRange: ClosedRange<Int64> = 0...253_399_622_400_000

    func handle(_ p: LeaderboardClose, _ context: JobContext) async throws {
        let period = try period(of: p, now: context.client.clock.nowMillis())
        let top = p.top ?? defaultTop
        guard (1...10_000).contains(top) else { throw JobFailure.permanent("top must be within 1...10000") }
        try await waitUntilEnded(period)
        let outbox = Outbox(sourceJob: context.id)
        let result = try await db.transaction { tx -> (closed: Bool, ranked: Int, paid: Int) in
            // Ranking a month of a million bets can outlast a worker's default statement timeout;
            // the job's own is ten minutes, and cancelling the job still stops it.
            try tx.setStatementTimeout(.seconds(300))
            guard let periodID = try Self.lockOpenPeriod(period, in: tx) else { return (false, 0, 0) }
            let ranked = try Self.rank(period, id: periodID, top: top, in: tx)
            let paid = try Self.reward(period, id: periodID, outbox: outbox, in: tx)
            try tx.query("UPDATE leaderboard_periods SET closed_at = now() WHERE id = $1", [.int(periodID)])
            return (true, ranked, paid)
        }
        try await outbox.flush(db, client: context.client)
        if result.closed {
            context.logger.info(
                "leaderboard closed", metadata: ["period": "\(period)", "ranked": "\(result.ranked)", "rewarded": "\(result.paid)"])
        } else {
            context.logger.info("leaderboard period was already closed", metadata: ["period": "\(period)"])
        }
    }

    /// The period the job names by its start, or else the last one ended by the worker's clock `now`.
    private func period(of p: LeaderboardClose, now: Int64) throws -> LeaderboardPeriod {
        guard let start = p.startsAtMillis else {
            guard Self.startRange.contains(now) else { throw JobFailure.permanent("the worker's clock reads \(now) ms") }
            return LeaderboardPeriod.lastEnded(before: now, kind: p.period)
        }
        guard Self.startRange.contains(start) else {
            throw JobFailure.permanent("starts_at_ms \(start) is outside 1970-01-01 to 9999-12-01")
        }
        let period = LeaderboardPeriod.containing(start, kind: p.period)
        guard period.startsAt == start else {
            throw JobFailure.permanent("starts_at_ms \(start) is not the start of a \(p.period.rawValue) period")
        }
        return period
    }

    /// PostgreSQL's clock decides, as it stamps the bets: a scheduler a few ms ahead of it must
    /// not lose the close, so a period not yet ended by that clock is waited for.
    private func waitUntilEnded(_ period: LeaderboardPeriod) async throws {
        let left = try await db.query(
            "SELECT greatest(0, $1::bigint - (extract(epoch FROM clock_timestamp()) * 1000)::bigint) AS left_ms", [.int(period.endsAt)]
        ).int(0, "left_ms")
        if left > 0 {
            guard Duration.milliseconds(left) <= waitLimit else {
                throw JobFailure.rejected("\(period) has not ended yet: it ends \(LeaderboardPeriod.utcDay(period.endsAt)) 00:00 UTC")
            }
            throw JobFailure.snooze(for: .milliseconds(left + 50), reason: "\(period) ends in \(left) ms by PostgreSQL's clock")
        }
    }

    /// Creates the period's row if missing and locks it; nil when it is already closed.
    private static func lockOpenPeriod(_ period: LeaderboardPeriod, in tx: PostgresConnection.Transaction) throws -> Int64? {
        try tx.query(
            """
            INSERT INTO leaderboard_periods (kind, starts_at, ends_at)
            VALUES ($1, to_timestamp($2::bigint / 1000.0), to_timestamp($3::bigint / 1000.0))
            ON CONFLICT (kind, starts_at) DO NOTHING
            """, [.text(period.kind.rawValue), .int(period.startsAt), .int(period.endsAt)])
        let row = try tx.query(
            """
            SELECT id, closed_at FROM leaderboard_periods WHERE kind = $1 AND starts_at = to_timestamp($2::bigint / 1000.0)
               FOR UPDATE
            """, [.text(period.kind.rawValue), .int(period.startsAt)])
        let periodID = try row.int(0, "id")
        return row[0, "closed_at"] == nil ? periodID : nil
    }

    /// Writes the snapshot of the period's `top` users; returns how many rows it has.
    private static func rank(_ period: LeaderboardPeriod, id periodID: Int64, top: Int, in tx: PostgresConnection.Transaction) throws -> Int
    {
        // Profit over bets created in the period: payout - stake when won, -stake when lost,
        // 0 while pending or refunded. Ties: more total wins first, then the lower user id.
        let ranked = try tx.query(
            """
            WITH scores AS (
                SELECT user_id,
                       sum(CASE status WHEN 'WON' THEN potential_win - stake WHEN 'LOST' THEN -stake ELSE 0 END) AS profit,
                       count(*) AS bets
                  FROM bets
                 WHERE created_at >= to_timestamp($2::bigint / 1000.0) AND created_at < to_timestamp($3::bigint / 1000.0)
                 GROUP BY user_id
            ), ranked AS (
                SELECT s.user_id, s.profit, s.bets,
                       row_number() OVER (ORDER BY s.profit DESC, u.total_wins DESC, s.user_id) AS rank
                  FROM scores s JOIN users u ON u.id = s.user_id
            )
            INSERT INTO leaderboard_snapshots (period_id, rank, user_id, profit, bets)
            SELECT $1, rank, user_id, profit, bets FROM ranked WHERE rank <= $4
            """, [.int(periodID), .int(period.startsAt), .int(period.endsAt), .int(Int64(top))])
        return ranked.affected
    }

    /// Pays the reward tiers to the snapshot's users, once per user and period, and queues their
    /// messages; returns how many were paid.
    private static func reward(
        _ period: LeaderboardPeriod, id periodID: Int64, outbox: Outbox, in tx: PostgresConnection.Transaction
    ) throws -> Int {
        try tx.query(
            """
            SELECT u.id FROM users u JOIN leaderboard_snapshots s ON s.user_id = u.id
             WHERE s.period_id = $1 ORDER BY u.id FOR UPDATE OF u
            """, [.int(periodID)])
        let paid = try tx.query(
            """
            WITH paid AS (
                INSERT INTO transactions (user_id, type, amount, effect_key)
                SELECT s.user_id, 'LEADERBOARD', t.amount, 'leaderboard:' || $1::bigint || ':' || s.user_id
                  FROM leaderboard_snapshots s
                  JOIN leaderboard_reward_tiers t ON t.kind = $2 AND s.rank BETWEEN t.rank_from AND t.rank_to
                 WHERE s.period_id = $1::bigint AND t.amount > 0
                ON CONFLICT (effect_key) DO NOTHING
                RETURNING user_id, amount
            )
            UPDATE users u SET balance = u.balance + p.amount FROM paid p WHERE u.id = p.user_id
            RETURNING u.id, u.telegram_id, u.unreachable, p.amount,
                      (SELECT rank FROM leaderboard_snapshots s WHERE s.period_id = $1::bigint AND s.user_id = u.id) AS rank
            """, [.int(periodID), .text(period.kind.rawValue)])
        for r in 0..<paid.count where !paid.bool(r, "unreachable") {
            try outbox.add(
                TelegramSend.resultsKind,
                Notifications.leaderboardReward(
                    telegramID: try paid.int(r, "telegram_id"), period: period, rank: Int(try paid.int(r, "rank")),
                    amount: try paid.int(r, "amount")),
                in: tx)
        }
        return paid.count
    }
}
