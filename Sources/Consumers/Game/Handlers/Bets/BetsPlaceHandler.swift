import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Places one bet in one transaction: validate against the current state, debit the stake with
/// its ledger row, grow the pools, count the bet. Then emits the `bet_placed` mission event.
struct BetsPlaceHandler: Sendable {
    let db: any PostgresClient

    struct Placed: Sendable {
        let betID: Int64
        let userID: Int64
    }

    func handle(_ p: BetsPlace, _ context: JobContext) async throws {
        // Outside the schema's range it is a producer's bug, not a user's choice: an operator looks.
        guard (1...9_007_199_254_740_991).contains(p.telegramID) else {
            throw JobFailure.permanent("telegram_id \(p.telegramID) is outside the schema's 1...9007199254740991")
        }
        guard p.stake >= 1 else { throw JobFailure.rejected("stake must be at least 1 PRED, got \(p.stake)") }
        let jobID = context.id.rawValue
        let placed = try await db.transaction { tx -> Placed in
            // The market row is locked first: bets on one market are placed one at a time, and a
            // second run of this job waits here and then finds the bet the first one placed.
            let market = try tx.query(
                """
                SELECT status, resolution, end_date > now() AS open, total_pool, total_yes_bets, total_no_bets
                  FROM markets WHERE id = $1 FOR UPDATE
                """, [.int(p.marketID)])
            guard !market.isEmpty else { throw JobFailure.rejected("market \(p.marketID) does not exist") }

            let existing = try tx.query("SELECT id, user_id FROM bets WHERE job_id = $1", [.text(jobID)])
            if !existing.isEmpty {
                return Placed(betID: try existing.int(0, "id"), userID: try existing.int(0, "user_id"))
            }

            let status = try market.string(0, "status")
            guard status == "Active", market[0, "resolution"] == nil else {
                throw JobFailure.rejected("market \(p.marketID) is closed: it is \(status == "Active" ? "being resolved" : status)")
            }
            guard market.bool(0, "open") else {
                throw JobFailure.rejected("market \(p.marketID) is closed: its end date has passed")
            }

            let userID = try Self.payer(of: p, in: tx)
            let betID = try Self.record(p, userID: userID, market: market, jobID: jobID, in: tx)
            return Placed(betID: betID, userID: userID)
        }
        // Also on a second run that found the bet: the first may have crashed before this line.
        // The event id makes a repeat count once.
        try await context.client.enqueue(
            MissionsProgress.kind,
            MissionsProgress(eventID: "bet:\(placed.betID)", event: .betPlaced, userID: placed.userID))
    }

    /// Locks the user who places `p`, registering one seen for the first time, and checks they
    /// may stake it; returns their id.
    private static func payer(of p: BetsPlace, in tx: PostgresConnection.Transaction) throws -> Int64 {
        var user = try Users.lock(telegramID: p.telegramID, in: tx)
        // A user seen for the first time would start with `Users.startingBalance`; they are
        // registered only once the bet is known to be valid, so a refused bet changes nothing.
        let balance = user.isEmpty ? Users.startingBalance : try user.int(0, "balance")
        if !user.isEmpty, user.bool(0, "banned") { throw JobFailure.rejected("user is banned") }
        guard p.stake <= balance else {
            throw JobFailure.rejected("insufficient balance: stake \(p.stake) PRED, balance \(balance) PRED")
        }
        if user.isEmpty {
            user = try Users.register(telegramID: p.telegramID, username: p.username, in: tx)
            guard try user.int(0, "balance") >= p.stake, !user.bool(0, "banned") else {
                throw JobsError(.conflict, "user \(p.telegramID) changed while being registered")
            }
        }
        return try user.int(0, "id")
    }

    /// Inserts the bet at the odds of the locked `market` row, debits the stake with its ledger
    /// row, and grows the pools; returns the bet's id.
    private static func record(
        _ p: BetsPlace, userID: Int64, market: PostgresRows, jobID: String, in tx: PostgresConnection.Transaction
    ) throws -> Int64 {
        let totalPool = try market.int(0, "total_pool")
        let outcomePool = try market.int(0, p.outcome == .yes ? "total_yes_bets" : "total_no_bets")
        guard let odds = Odds.hundredths(totalPool: totalPool, outcomePool: outcomePool, stake: p.stake),
            let potentialWin = Odds.potentialWin(stake: p.stake, hundredths: odds)
        else {
            throw JobFailure.rejected(
                "the odds of a \(p.stake) PRED stake on market \(p.marketID) do not fit in a 64-bit amount (pools \(totalPool), \(outcomePool))"
            )
        }

        let bet = try tx.query(
            """
            INSERT INTO bets (user_id, market_id, outcome, stake, odds_hundredths, potential_win, job_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
            """,
            [
                .int(userID), .int(p.marketID), .text(p.outcome.rawValue), .int(p.stake), .int(odds), .int(potentialWin),
                .text(jobID),
            ])
        let betID = try bet.int(0, "id")
        try tx.query(
            "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES ($1, 'BET', $2, $3)",
            [.int(userID), .int(-p.stake), .text("bet:\(betID):BET")])
        try tx.query(
            """
            UPDATE users SET balance = balance - $2, total_bets = total_bets + 1, total_volume = total_volume + $2
             WHERE id = $1
            """, [.int(userID), .int(p.stake)])
        try tx.query(
            """
            UPDATE markets SET total_pool = total_pool + $2,
                   total_yes_bets = total_yes_bets + CASE WHEN $3 = 'YES' THEN $2 ELSE 0 END,
                   total_no_bets = total_no_bets + CASE WHEN $3 = 'NO' THEN $2 ELSE 0 END
             WHERE id = $1
            """, [.int(p.marketID), .int(p.stake), .text(p.outcome.rawValue)])
        return betID
    }
}
