import Jobs
import JobsWorker
import Logging
import Postgres
import Producers
import ThePredKinds

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
    /// Chunks settled at once, on as many connections.
    var lanes: Int = 2

    struct Market: Sendable {
        let id: Int64
        /// Escaped for Telegram's HTML once, not per message.
        let htmlTitle: String
        let result: MarketsResolve.Result

        init(id: Int64, title: String, result: MarketsResolve.Result) {
            self.id = id
            htmlTitle = Notifications.escape(title)
            self.result = result
        }
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
            try await enqueueMissionEvents(of: p.marketID, client: context.client)
            return
        }
        try await flushUnsentChunks(of: market.id, context: context)

        let started = ContinuousClock.now
        // Lanes split the users (user_id mod lanes), so their chunks never wait on each other's locks.
        let lanes = self.lanes
        var totals = LaneTotals()
        try await withThrowingTaskGroup(of: LaneTotals.self) { group in
            for lane in 0..<lanes {
                group.addTask { try await self.settleLane(lane, of: lanes, market: market, context: context, started: started) }
            }
            for try await t in group { totals.add(t) }
        }
        // Bets another worker on this market still holds: wait for them, or take them if it gave up.
        while try await hasPendingBets(market.id) {
            let t = try await settleLane(0, of: 1, market: market, context: context, started: started)
            totals.add(t)
            if t.settled == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        try await finish(market)
        try await flushUnsentChunks(of: market.id, context: context)
        try await enqueueMissionEvents(of: market.id, client: context.client)
        context.logger.info(
            "market resolved",
            metadata: [
                "market_id": "\(market.id)", "result": "\(market.result.rawValue)", "settled": "\(totals.settled)",
                "elapsed": "\(ContinuousClock.now - started)", "settling": "\(totals.settling)",
                "waiting_for_enqueue": "\(totals.waiting)",
            ])
    }

    /// What one lane did, and where its time went: settling in PostgreSQL, waiting for Redis.
    struct LaneTotals: Sendable {
        var settled = 0
        var settling = Duration.zero
        var waiting = Duration.zero

        mutating func add(_ o: LaneTotals) {
            settled += o.settled
            settling += o.settling
            waiting += o.waiting
        }
    }

    /// Settles the pending bets of users with `user_id % lanes == lane`, chunk after chunk, each
    /// chunk's messages enqueued while the next one settles. Returns when it finds none free.
    func settleLane(_ lane: Int, of lanes: Int, market: Market, context: JobContext, started: ContinuousClock.Instant) async throws
        -> LaneTotals
    {
        var totals = LaneTotals()
        var cursor: Int64 = 0
        var chunks = 0
        var enqueue: Task<Void, any Error>?
        defer { enqueue?.cancel() }
        while true {
            // A shutdown stops between chunks; the next delivery resumes after the last commit.
            try Task.checkCancellation()
            let t0 = ContinuousClock.now
            let next = try await retryingDeadlocks { try await settleChunk(market, after: cursor, lane: lane, of: lanes) }
            totals.settling += ContinuousClock.now - t0
            // Rows another worker holds were skipped; the caller comes back for them.
            guard let chunk = next else { break }
            cursor = chunk.lastBetID
            totals.settled += chunk.bets.count
            chunks += 1
            let t1 = ContinuousClock.now
            try await enqueue?.value
            totals.waiting += ContinuousClock.now - t1
            enqueue = Task { try await self.enqueueMessages(of: chunk, market: market, client: context.client) }
            if chunks % 20 == 0 {
                context.logger.info(
                    "settling",
                    metadata: [
                        "market_id": "\(market.id)", "lane": "\(lane)", "settled": "\(totals.settled)",
                        "elapsed": "\(ContinuousClock.now - started)",
                    ])
            }
        }
        let t2 = ContinuousClock.now
        try await enqueue?.value
        totals.waiting += ContinuousClock.now - t2
        enqueue = nil
        return totals
    }

    /// Claims the market for this result, or returns nil when this job already finished it.
    func begin(_ p: MarketsResolve, jobID: String) async throws -> Market? {
        try await db.transaction { tx -> Market? in
            let row = try tx.query(
                "SELECT status, result, resolution, resolution_job_id, title FROM markets WHERE id = $1 FOR UPDATE",
                [.int(p.marketID)])
            guard !row.isEmpty else { throw JobFailure.rejected("market \(p.marketID) does not exist") }
            let status = try row.string(0, "status")
            let resolution = row[0, "resolution"]
            if status != "Active" {
                if row[0, "resolution_job_id"] == jobID { return nil }
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
            return Market(id: p.marketID, title: try row.string(0, "title"), result: p.result)
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
            let idArray = PostgresValue.bigintArray(ids)
            let bets = try Self.decode(try tx.query(Self.settleSQL, [idArray, .text(market.result.rawValue)]))
            let chunkRow = try tx.query(
                "INSERT INTO settlement_chunks (market_id, bet_ids) VALUES ($1, $2::bigint[]) RETURNING id",
                [.int(market.id), idArray])
            return Chunk(id: try chunkRow.int(0, "id"), bets: bets, lastBetID: ids.last!)
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
    /// returns the settled bets.
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
        ), updated AS (
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
        )
        -- The chunk's bets, as their messages need them (users as they were: telegram_id does not change here).
        SELECT s.id, s.user_id, s.status, s.stake, s.potential_win, u.telegram_id, u.unreachable
          FROM settled s JOIN users u ON u.id = s.user_id ORDER BY s.id
        """

    static func settledBets(ids: PostgresValue, in tx: PostgresConnection.Transaction) throws -> [Settled] {
        try decode(
            try tx.query(
                """
                SELECT b.id, b.user_id, b.status, b.stake, b.potential_win, u.telegram_id, u.unreachable
                  FROM bets b JOIN users u ON u.id = b.user_id
                 WHERE b.id = ANY($1::bigint[]) AND b.status <> 'PENDING' ORDER BY b.id
                """, [ids]))
    }

    static func decode(_ rows: PostgresRows) throws -> [Settled] {
        var bets: [Settled] = []
        bets.reserveCapacity(rows.count)
        for r in 0..<rows.count {
            bets.append(
                Settled(
                    betID: try rows.int(r, "id"), userID: try rows.int(r, "user_id"), status: try rows.string(r, "status"),
                    stake: try rows.int(r, "stake"), potentialWin: try rows.int(r, "potential_win"),
                    telegramID: try rows.int(r, "telegram_id"), unreachable: rows.bool(r, "unreachable")))
        }
        return bets
    }

    /// Enqueues a chunk's messages, then marks the chunk enqueued.
    func enqueueMessages(of chunk: Chunk, market: Market, client: JobClient) async throws {
        var messages: [(TelegramSend, EnqueueOptions)] = []
        messages.reserveCapacity(chunk.bets.count)
        for bet in chunk.bets {
            // Users who blocked the bot are not written to again (issue 4 marks them).
            if bet.unreachable { continue }
            let message: TelegramSend
            switch bet.status {
            case "WON": message = Notifications.betWon(telegramID: bet.telegramID, htmlTitle: market.htmlTitle, payout: bet.potentialWin)
            case "LOST": message = Notifications.betLost(telegramID: bet.telegramID, htmlTitle: market.htmlTitle, stake: bet.stake)
            default: message = Notifications.refunded(telegramID: bet.telegramID, htmlTitle: market.htmlTitle, stake: bet.stake)
            }
            messages.append((message, .idempotent("notify:bet:\(bet.betID)")))
        }
        if !messages.isEmpty { try await client.enqueue(TelegramSend.resultsKind, messages) }
        try await db.query("UPDATE settlement_chunks SET enqueued_at = now() WHERE id = $1", [.int(chunk.id)])
    }

    /// One `bet_settled` event per winner of the market, once it is resolved: wins, streaks and
    /// ranks can complete missions. The event id is per market and user, so a repeat (a
    /// redelivery, a second worker) counts once; losses and refunds complete no mission.
    func enqueueMissionEvents(of marketID: Int64, client: JobClient) async throws {
        let winners = try await db.query(
            "SELECT DISTINCT user_id FROM bets WHERE market_id = $1 AND status = 'WON' ORDER BY user_id", [.int(marketID)])
        var events: [MissionsProgress] = []
        events.reserveCapacity(winners.count)
        for r in 0..<winners.count {
            let user = try winners.int(r, "user_id")
            events.append(MissionsProgress(eventID: "settle:\(marketID):\(user)", event: .betSettled, userID: user))
        }
        for start in stride(from: 0, to: events.count, by: 5_000) {
            try await client.enqueue(MissionsProgress.kind, Array(events[start..<min(start + 5_000, events.count)]))
        }
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
