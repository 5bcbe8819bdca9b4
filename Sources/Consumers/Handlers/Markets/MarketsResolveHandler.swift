import Jobs
import Logging
import Producers

/// Settles every pending bet of a market in set-based chunks, each chunk one transaction.
///
/// Exactly once, however often or wherever the job runs:
/// - every bet moves out of PENDING under `WHERE status = 'PENDING'` on a row it has locked;
/// - every payout is a ledger row with a unique `effect_key`, and balances grow by the rows inserted;
/// - each chunk's bet ids go to `settlement_chunks` in the chunk's transaction, and its messages and
///   mission events are enqueued from there after the commit with idempotency keys, so a crash
///   between the commit and the enqueue loses nothing and sends nothing twice.
/// A second job with the same result joins in (rows another worker holds are skipped); the last
/// one to find no pending bet marks the market resolved.
struct MarketsResolveHandler: Sendable {
    let db: any PostgresClient
    /// Bets per statement and transaction.
    var chunkSize: Int

    struct Market: Sendable {
        let id: Int64
        let title: String
        let result: MarketsResolve.Result
    }

    /// One settled bet, as its message needs it.
    struct Settled: Sendable {
        let betID: Int64
        let userID: Int64
        let status: String
        let stake: Int64
        let potentialWin: Int64
        let telegramID: Int64
        let unreachable: Bool
    }

    struct Chunk: Sendable {
        let id: Int64
        let bets: [Settled]
        let lastBetID: Int64
    }

    func handle(_ p: MarketsResolve, _ context: JobContext) async throws {
        let jobID = context.id.rawValue
        guard let market = try await begin(p, jobID: jobID) else {
            // This job finished the market on an earlier delivery; only its messages may be left.
            try await flushUnsentChunks(of: p.marketID, context: context)
            return
        }
        try await flushUnsentChunks(of: market.id, context: context)

        let started = ContinuousClock.now
        var settled = 0
        var cursor: Int64 = 0
        var chunks = 0
        var enqueue: Task<Void, any Error>?
        defer { enqueue?.cancel() }
        while true {
            // A shutdown stops between chunks; the next delivery resumes after the last commit.
            try Task.checkCancellation()
            guard let chunk = try await settleChunk(market, after: cursor) else {
                if cursor > 0 {
                    cursor = 0  // one more pass from the start, for rows another worker skipped or gave back
                    continue
                }
                if try await hasPendingBets(market.id) {
                    try await Task.sleep(for: .milliseconds(50))  // another worker holds them
                    continue
                }
                break
            }
            cursor = chunk.lastBetID
            settled += chunk.bets.count
            chunks += 1
            // The previous chunk's messages go to Redis while this chunk was settled in PostgreSQL.
            try await enqueue?.value
            enqueue = Task { try await self.enqueueMessages(of: chunk, market: market, client: context.client) }
            if chunks % 20 == 0 {
                context.logger.info(
                    "settling", metadata: ["market_id": "\(market.id)", "settled": "\(settled)",
                                           "elapsed": "\(ContinuousClock.now - started)"])
            }
        }
        try await enqueue?.value
        enqueue = nil
        try await finish(market)
        try await flushUnsentChunks(of: market.id, context: context)
        context.logger.info(
            "market resolved",
            metadata: ["market_id": "\(market.id)", "result": "\(market.result.rawValue)", "settled": "\(settled)",
                       "elapsed": "\(ContinuousClock.now - started)"])
    }

    /// Claims the market for this result, or returns nil when this job already finished it.
    func begin(_ p: MarketsResolve, jobID: String) async throws -> Market? {
        try await db.transaction { tx -> Market? in
            let row = try tx.query(
                "SELECT status, result, resolution, resolution_job_id, title FROM markets WHERE id = $1 FOR UPDATE",
                [.int(p.marketID)])
            guard !row.isEmpty else { throw JobFailure.permanent("market \(p.marketID) does not exist") }
            let status = try row.string(0, "status")
            let resolution = row[0, "resolution"]
            if status != "Active" {
                if row[0, "resolution_job_id"] == jobID { return nil }
                throw JobFailure.permanent(
                    "market \(p.marketID) is already resolved: \(status)\(row[0, "result"].map { " \($0)" } ?? "")")
            }
            if let resolution, resolution != p.result.rawValue {
                throw JobFailure.permanent("market \(p.marketID) is being resolved as \(resolution)")
            }
            if resolution == nil {
                try tx.query(
                    """
                    UPDATE markets SET resolution = $2, resolution_job_id = $3, resolution_started_at = now()
                     WHERE id = $1
                    """, [.int(p.marketID), .text(p.result.rawValue), .text(jobID)])
            }
            return Market(id: p.marketID, title: try row.string(0, "title"), result: p.result)
        }
    }

    /// Settles the next chunk of pending bets after `cursor`, or returns nil when none is free.
    func settleChunk(_ market: Market, after cursor: Int64) async throws -> Chunk? {
        let limit = chunkSize
        return try await db.transaction { tx -> Chunk? in
            // Keyset order keeps each pick off the index entries earlier chunks left behind.
            let picked = try tx.query(
                """
                SELECT id FROM bets WHERE market_id = $1 AND status = 'PENDING' AND id > $2
                 ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED
                """, [.int(market.id), .int(cursor), .int(Int64(limit))])
            guard !picked.isEmpty else { return nil }
            var ids: [Int64] = []
            ids.reserveCapacity(picked.count)
            for r in 0..<picked.count { ids.append(try picked.int(r, "id")) }
            let idArray = PostgresValue.bigintArray(ids)
            // Users are locked in id order, as every multi-user transaction here does, so two
            // settlements that share users wait for each other instead of deadlocking.
            try tx.query(
                """
                SELECT id FROM users WHERE id IN (SELECT user_id FROM bets WHERE id = ANY($1::bigint[]))
                 ORDER BY id FOR UPDATE
                """, [idArray])
            try tx.query(Self.settleSQL, [idArray, .text(market.result.rawValue)])
            let chunkRow = try tx.query(
                "INSERT INTO settlement_chunks (market_id, bet_ids) VALUES ($1, $2::bigint[]) RETURNING id",
                [.int(market.id), idArray])
            let bets = try Self.settledBets(ids: idArray, in: tx)
            return Chunk(id: try chunkRow.int(0, "id"), bets: bets, lastBetID: ids.last!)
        }
    }

    /// One statement settles a chunk: bets, ledger rows, then each user once with the sums.
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
            SELECT user_id FROM credit UNION SELECT user_id FROM results
        )
        UPDATE users u
           SET balance = u.balance + coalesce(c.amount, 0),
               total_wins = u.total_wins + coalesce(r.wins, 0),
               total_losses = u.total_losses + coalesce(r.losses, 0),
               win_streak = CASE WHEN r.user_id IS NULL THEN u.win_streak
                                 WHEN r.losses > 0 THEN r.tail ELSE u.win_streak + r.wins END,
               best_streak = GREATEST(u.best_streak, u.win_streak + coalesce(r.head, 0), coalesce(r.best_tail, 0)),
               rank = \(Rank.sql("u.total_wins + coalesce(r.wins, 0)"))
          FROM touched t LEFT JOIN credit c ON c.user_id = t.user_id LEFT JOIN results r ON r.user_id = t.user_id
         WHERE u.id = t.user_id
        """

    static func settledBets(ids: PostgresValue, in tx: PostgresConnection.Transaction) throws -> [Settled] {
        let rows = try tx.query(
            """
            SELECT b.id, b.user_id, b.status, b.stake, b.potential_win, u.telegram_id, u.unreachable
              FROM bets b JOIN users u ON u.id = b.user_id
             WHERE b.id = ANY($1::bigint[]) AND b.status <> 'PENDING' ORDER BY b.id
            """, [ids])
        var bets: [Settled] = []
        bets.reserveCapacity(rows.count)
        for r in 0..<rows.count {
            bets.append(Settled(
                betID: try rows.int(r, "id"), userID: try rows.int(r, "user_id"), status: try rows.string(r, "status"),
                stake: try rows.int(r, "stake"), potentialWin: try rows.int(r, "potential_win"),
                telegramID: try rows.int(r, "telegram_id"), unreachable: rows.bool(r, "unreachable")))
        }
        return bets
    }

    /// Enqueues a chunk's messages and mission events, then marks the chunk enqueued.
    func enqueueMessages(of chunk: Chunk, market: Market, client: JobClient) async throws {
        var messages: [(TelegramSend, EnqueueOptions)] = []
        messages.reserveCapacity(chunk.bets.count)
        var winners = Set<Int64>()
        for bet in chunk.bets {
            if bet.status == "WON" { winners.insert(bet.userID) }
            // Users who blocked the bot are not written to again (issue 4 marks them).
            if bet.unreachable { continue }
            let message: TelegramSend
            switch bet.status {
            case "WON": message = Notifications.betWon(telegramID: bet.telegramID, title: market.title, payout: bet.potentialWin)
            case "LOST": message = Notifications.betLost(telegramID: bet.telegramID, title: market.title, stake: bet.stake)
            default: message = Notifications.refunded(telegramID: bet.telegramID, title: market.title, stake: bet.stake)
            }
            messages.append((message, .idempotent("notify:bet:\(bet.betID)")))
        }
        if !messages.isEmpty { try await client.enqueue(TelegramSend.kind, messages) }
        if !winners.isEmpty {
            // Wins, streaks and ranks can complete missions; the event id is per chunk and user.
            try await client.enqueue(
                MissionsProgress.kind,
                winners.sorted().map {
                    MissionsProgress(eventID: "settle:\(chunk.id):\($0)", event: .betSettled, userID: $0)
                })
        }
        try await db.query("UPDATE settlement_chunks SET enqueued_at = now() WHERE id = $1", [.int(chunk.id)])
    }

    /// Re-enqueues chunks whose messages a crashed run committed but never enqueued.
    func flushUnsentChunks(of marketID: Int64, context: JobContext) async throws {
        let unsent = try await db.query(
            "SELECT id, bet_ids FROM settlement_chunks WHERE market_id = $1 AND enqueued_at IS NULL ORDER BY id",
            [.int(marketID)])
        guard !unsent.isEmpty else { return }
        let title = try await db.query("SELECT title, resolution FROM markets WHERE id = $1", [.int(marketID)])
        guard let resolution = title[0, "resolution"].flatMap(MarketsResolve.Result.init(rawValue:)) else { return }
        let market = Market(id: marketID, title: try title.string(0, "title"), result: resolution)
        for r in 0..<unsent.count {
            let ids = PostgresValue.text(try unsent.string(r, "bet_ids"))
            let bets = try await db.transaction { tx in try Self.settledBets(ids: ids, in: tx) }
            let chunk = Chunk(id: try unsent.int(r, "id"), bets: bets, lastBetID: 0)
            try await enqueueMessages(of: chunk, market: market, client: context.client)
        }
        context.logger.info("re-enqueued messages of settled chunks", metadata: ["chunks": "\(unsent.count)"])
    }

    func hasPendingBets(_ marketID: Int64) async throws -> Bool {
        try await db.query(
            "SELECT EXISTS (SELECT 1 FROM bets WHERE market_id = $1 AND status = 'PENDING') AS pending", [.int(marketID)]
        ).bool(0, "pending")
    }

    func finish(_ market: Market) async throws {
        try await db.query(
            """
            UPDATE markets SET status = CASE WHEN $2 = 'CANCELLED' THEN 'Cancelled' ELSE 'Resolved' END,
                   result = CASE WHEN $2 = 'CANCELLED' THEN NULL ELSE $2 END, resolved_at = now()
             WHERE id = $1 AND status = 'Active'
            """, [.int(market.id), .text(market.result.rawValue)])
    }
}
