import Jobs
import JobsWorker
import Logging
import Metrics
import Postgres
import Producers
import ThePredKinds

/// Settles every pending bet of a market in set-based chunks, each chunk one transaction.
///
/// Exactly once, however often or wherever the job runs:
/// - every bet moves out of PENDING under `WHERE status = 'PENDING'` on a row it has locked;
/// - every payout is a ledger row with a unique `effect_key`, and balances grow by the rows inserted.
/// A second job with the same result joins in (rows another worker holds are skipped); the last
/// one to find no pending bet marks the market resolved, and in the same transaction opens its
/// notification backlog (`MarketNotificationBacklog`). The messages and mission events are then
/// produced by `markets.notify` as their queues drain, not enqueued here: a million of them would
/// wait hours in Redis for the 30 messages a second.
struct MarketsResolveHandler: Sendable {
    let db: any PostgresClient
    /// Bets per statement and transaction.
    var chunkSize: Int
    /// Chunks settled at once, on as many connections.
    var lanes: Int = 2

    struct Market: Sendable {
        let id: Int64
        let result: MarketsResolve.Result
        /// Resolved by another job with this result.
        var resolvedBefore = false
    }

    struct Chunk: Sendable {
        let settled: Int
        let lastBetID: Int64
    }

    func handle(_ p: MarketsResolve, _ context: JobContext) async throws {
        guard let market = try await begin(p, jobID: context.id.rawValue) else {
            // This job finished the market on an earlier delivery; its producer may not be queued.
            try await enqueueNotifications(of: p.marketID, client: context.client)
            return
        }
        if market.resolvedBefore {
            try await enqueueNotifications(of: p.marketID, client: context.client)
            throw JobFailure.rejected(
                "market \(p.marketID) is already resolved: \(p.result == .cancelled ? "Cancelled" : "Resolved \(p.result.rawValue)")")
        }
        let started = ContinuousClock.now
        SettlementMetrics.running.increment()
        defer { SettlementMetrics.running.decrement() }
        // Lanes split the users (user_id mod lanes), so their chunks never wait on each other's locks.
        let lanes = self.lanes
        var settled = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            for lane in 0..<lanes {
                group.addTask { try await self.settleLane(lane, of: lanes, market: market, context: context, started: started) }
            }
            for try await n in group { settled += n }
        }
        // Bets another worker on this market still holds: wait for them, or take them if it gave up.
        while try await hasPendingBets(market.id) {
            let n = try await settleLane(0, of: 1, market: market, context: context, started: started)
            settled += n
            if n == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        try await finish(market)
        SettlementMetrics.duration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
        try await enqueueNotifications(of: market.id, client: context.client)
        context.logger.info(
            "market resolved",
            metadata: [
                "market_id": "\(market.id)", "result": "\(market.result.rawValue)", "settled": "\(settled)",
                "elapsed": "\(ContinuousClock.now - started)",
            ])
    }

    /// Settles the pending bets of users with `user_id % lanes == lane`, chunk after chunk. Returns
    /// how many it settled when it finds none free.
    func settleLane(_ lane: Int, of lanes: Int, market: Market, context: JobContext, started: ContinuousClock.Instant) async throws
        -> Int
    {
        var settled = 0
        var cursor: Int64 = 0
        var chunks = 0
        while true {
            // A shutdown stops between chunks; the next delivery resumes after the last commit.
            try Task.checkCancellation()
            let next = try await retryingDeadlocks { try await settleChunk(market, after: cursor, lane: lane, of: lanes) }
            // Rows another worker holds were skipped; the caller comes back for them.
            guard let chunk = next else { break }
            cursor = chunk.lastBetID
            settled += chunk.settled
            SettlementMetrics.betsSettled.increment(by: chunk.settled)
            chunks += 1
            if chunks % 20 == 0 {
                context.logger.info(
                    "settling",
                    metadata: [
                        "market_id": "\(market.id)", "lane": "\(lane)", "settled": "\(settled)",
                        "elapsed": "\(ContinuousClock.now - started)",
                    ])
            }
        }
        return settled
    }

    /// Claims the market for this result, or returns nil when this job already finished it.
    func begin(_ p: MarketsResolve, jobID: String) async throws -> Market? {
        try await db.transaction { tx -> Market? in
            let row = try tx.query(
                "SELECT status, result, resolution, resolution_job_id FROM markets WHERE id = $1 FOR UPDATE",
                [.int(p.marketID)])
            guard !row.isEmpty else { throw JobFailure.rejected("market \(p.marketID) does not exist") }
            let status = try row.string(0, "status")
            let resolution = row[0, "resolution"]
            if status != "Active" {
                if row[0, "resolution_job_id"] == jobID { return nil }
                // Resolved already, the same way: its producer may never have been queued (the job
                // that resolved it died before), so this one queues it before it is refused.
                if resolution == p.result.rawValue { return Market(id: p.marketID, result: p.result, resolvedBefore: true) }
                throw JobFailure.rejected(
                    "market \(p.marketID) is already resolved: \(status)\(row[0, "result"].map { " \($0)" } ?? "")")
            }
            if let resolution, resolution != p.result.rawValue {
                throw JobFailure.rejected("market \(p.marketID) is being resolved as \(resolution)")
            }
            if resolution == nil {
                try tx.query(
                    """
                    UPDATE markets SET resolution = $2, resolution_job_id = $3, resolution_started_at = now()
                     WHERE id = $1
                    """, [.int(p.marketID), .text(p.result.rawValue), .text(jobID)])
            }
            return Market(id: p.marketID, result: p.result)
        }
    }

    /// Each statement of a settlement chunk may take this long.
    static let chunkStatementTimeout: Duration = .seconds(300)

    /// Settles the next chunk of pending bets after `cursor` in the lane, or returns nil when none is free.
    func settleChunk(_ market: Market, after cursor: Int64, lane: Int = 0, of lanes: Int = 1) async throws -> Chunk? {
        let limit = chunkSize
        return try await db.transaction { tx -> Chunk? in
            // A chunk of 10,000 bets waiting on row locks can outlast a worker's default statement
            // timeout; the resolve's own timeout is an hour, and cancelling it still stops this.
            try tx.setStatementTimeout(Self.chunkStatementTimeout)
            // The lane filter's selectivity is unknown to the planner (it guesses 0.5 %), so for a
            // large market it expects few matches and, near the start, sorts a sequential scan of
            // every pending bet instead of walking an index in id order: 250 ms against 17 ms per
            // pick of 10,000 in a market of a million. Every statement here has an index to use.
            try tx.query("SET LOCAL enable_seqscan = off")
            // Keyset order: each pick starts after the last chunk, not at the bets settled already.
            let picked = try tx.query(
                """
                SELECT id FROM bets WHERE market_id = $1 AND status = 'PENDING' AND id > $2 AND user_id % $4 = $5
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
                """, [.int(market.id), .int(cursor), .int(Int64(limit)), .int(Int64(lanes)), .int(Int64(lane))])
            guard !picked.isEmpty else { return nil }
            var ids: [Int64] = []
            ids.reserveCapacity(picked.count)
            for r in 0..<picked.count { ids.append(try picked.int(r, "id")) }
            let settled = try tx.query(Self.settleSQL, [PostgresValue.bigintArray(ids), .text(market.result.rawValue)])
            return Chunk(settled: Int(try settled.int(0, "settled")), lastBetID: ids.last!)
        }
    }

    /// Runs `body` again when PostgreSQL broke a deadlock by aborting it. The users of a chunk are
    /// updated in no fixed order (locking them in order first cost a tenth of the time), so two
    /// settlements of different markets that share users can deadlock; the loser's chunk rolled
    /// back whole and simply runs again.
    func retryingDeadlocks<T>(_ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch let error as PostgresError where error.sqlState == "40P01" && attempt < 5 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int64.random(in: 10...50) * Int64(attempt)))
            }
        }
    }

    /// One statement settles a chunk: bets, ledger rows, then each user once with the sums, and
    /// returns how many bets it settled.
    /// $1 the bet ids (bigint[]), $2 the result (YES, NO or CANCELLED).
    static let settleSQL = """
        WITH settled AS (
            UPDATE bets b
               SET status = CASE WHEN $2 = 'CANCELLED' THEN 'REFUNDED' WHEN b.outcome = $2 THEN 'WON' ELSE 'LOST' END,
                   resolved_at = now()
             WHERE b.id = ANY($1::bigint[]) AND b.status = 'PENDING'
            RETURNING b.id, b.user_id, b.status, b.stake, b.potential_win
        ), paid AS (
            INSERT INTO transactions (user_id, type, amount, effect_key)
            SELECT user_id,
                   CASE status WHEN 'WON' THEN 'WIN' ELSE 'REFUND' END,
                   CASE status WHEN 'WON' THEN potential_win ELSE stake END,
                   'bet:' || id || CASE status WHEN 'WON' THEN ':WIN' ELSE ':REFUND' END
              FROM settled WHERE status <> 'LOST'
            ON CONFLICT (effect_key) DO NOTHING
            RETURNING user_id, amount
        ), credit AS (
            SELECT user_id, sum(amount)::bigint AS amount FROM paid GROUP BY user_id
        ), runs AS (
            -- Each loss starts a new run of wins; run 0 continues the user's current streak.
            SELECT user_id, status, count(*) FILTER (WHERE status = 'LOST') OVER (PARTITION BY user_id ORDER BY id) AS run
              FROM settled WHERE status IN ('WON', 'LOST')
        ), run_wins AS (
            SELECT user_id, run, count(*) FILTER (WHERE status = 'WON') AS wins, max(run) OVER (PARTITION BY user_id) AS last_run
              FROM runs GROUP BY user_id, run
        ), results AS (
            SELECT user_id, sum(wins)::int AS wins, max(last_run)::int AS losses,
                   coalesce(sum(wins) FILTER (WHERE run = 0), 0)::int AS head,
                   coalesce(max(wins) FILTER (WHERE run > 0), 0)::int AS best_tail,
                   coalesce(sum(wins) FILTER (WHERE run = last_run), 0)::int AS tail
              FROM run_wins GROUP BY user_id
        ), touched AS (
            -- A FULL JOIN, which PostgreSQL can only hash or merge: with the CTEs' row estimates of
            -- one or two, LEFT JOINs to them were planned as nested loops over the whole CTE per
            -- user, quadratic in the chunk's users (EXPLAIN ANALYZE: 733 ms of a 5,000-bet chunk).
            SELECT coalesce(c.user_id, r.user_id) AS user_id, c.amount, r.user_id IS NOT NULL AS has_results,
                   r.wins, r.losses, r.head, r.best_tail, r.tail
              FROM credit c FULL JOIN results r ON r.user_id = c.user_id
        ), updated AS (
        UPDATE users u
           SET balance = u.balance + coalesce(t.amount, 0),
               total_wins = u.total_wins + coalesce(t.wins, 0),
               total_losses = u.total_losses + coalesce(t.losses, 0),
               win_streak = CASE WHEN NOT t.has_results THEN u.win_streak
                                 WHEN t.losses > 0 THEN t.tail ELSE u.win_streak + t.wins END,
               best_streak = GREATEST(u.best_streak, u.win_streak + coalesce(t.head, 0), coalesce(t.best_tail, 0)),
               rank = \(Rank.sql("u.total_wins + coalesce(t.wins, 0)"))
          FROM touched t
         WHERE u.id = t.user_id
        )
        SELECT count(*) AS settled FROM settled
        """

    /// Queues the market's `markets.notify`, under its one key: a repeat is the same job while it
    /// lives. One that ended (buried, forgotten by Redis) is replaced, so resolving again carries
    /// on a backlog its producer left (issue 26, finding 5).
    func enqueueNotifications(of marketID: Int64, client: JobClient) async throws {
        _ = try await client.ensureProducer(
            MarketsNotify.kind, MarketsNotify(marketID: marketID), key: MarketsNotify.idempotencyKey(market: marketID))
    }

    func hasPendingBets(_ marketID: Int64) async throws -> Bool {
        try await db.query(
            "SELECT EXISTS (SELECT 1 FROM bets WHERE market_id = $1 AND status = 'PENDING') AS pending", [.int(marketID)]
        ).bool(0, "pending")
    }

    /// Marks the market resolved and opens its notification backlog, in one transaction: the
    /// job that moves the market is the one that opens it.
    func finish(_ market: Market) async throws {
        try await db.transaction { tx in
            // The winners are picked by sorting the market's won bets; a million of them spilled
            // to disk at the default 4 MB.
            try tx.query("SET LOCAL work_mem = '64MB'")
            let moved = try tx.query(
                """
                UPDATE markets SET status = CASE WHEN $2 = 'CANCELLED' THEN 'Cancelled' ELSE 'Resolved' END,
                       result = CASE WHEN $2 = 'CANCELLED' THEN NULL ELSE $2 END, resolved_at = now()
                 WHERE id = $1 AND status = 'Active' RETURNING id
                """, [.int(market.id), .text(market.result.rawValue)])
            if !moved.isEmpty { try MarketNotificationBacklog.open(market.id, in: tx) }
        }
    }
}
