import Game
import OperatorTools
import Postgres
import TestSupport
import Testing

/// 2026-01-01 00:00 UTC: a fixed clock, so two seeds can be compared row for row.
private let fixedNow: Int64 = 1_767_225_600

@Suite("Seed and audit", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct SeedAuditTests {
    /// A fresh, migrated database.
    private func migrated() async throws -> (FreshDatabase, PostgresConnection) {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        try await Migrator(directory: Migrator.defaultDirectory).migrate(db)
        return (fresh, db)
    }

    private func seed(
        _ db: PostgresConnection, users: Int = 200, markets: Int = 10, bets: Int = 5_000, seed: UInt64 = 42,
        resolvedFraction: Double = 0.25
    ) async throws -> Seeder.Report {
        try await Seeder(
            .init(
                users: users, markets: markets, bets: bets, seed: seed, resolvedFraction: resolvedFraction, now: fixedNow)
        ).run(on: db)
    }

    private func count(_ db: PostgresConnection, _ sql: String) async throws -> Int {
        Int(try await db.query(sql).rows.first?[0] ?? "") ?? -1
    }

    /// The checks that found something.
    private func failing(_ report: Auditor.Report) -> [Auditor.Check] {
        report.findings.filter { $0.violations > 0 }.map(\.check)
    }

    @Test("a seeded database passes every audit check")
    func seededIsClean() async throws {
        let (fresh, db) = try await migrated()
        let report = try await seed(db)
        #expect(report.users == 200 && report.markets == 10 && report.bets == 5_000)
        #expect(report.resolvedMarketIDs.count == 3)
        #expect(report.activeMarketIDs.count == 7)
        #expect(report.wonBets + report.lostBets + report.pendingBets == 5_000)
        #expect(report.ledgerRows == 5_000 + report.wonBets)
        #expect(report.wonBets > 0 && report.lostBets > 0)
        #expect(try await count(db, "SELECT count(*) FROM transactions") == report.ledgerRows)

        let audit = try await Auditor().run(on: db)
        #expect(audit.findings.map(\.check) == Auditor.Check.allCases)
        #expect(failing(audit) == [], "\(audit.findings.flatMap(\.examples))")
        #expect(audit.users == 200 && audit.bets == 5_000)
        try await fresh.drop(db)
    }

    @Test("seeded data follow the domain: odds, stakes within the balance, settlement, streaks and ranks")
    func seededFollowsDomain() async throws {
        let (fresh, db) = try await migrated()
        _ = try await seed(db)

        // Odds from the pools as they stood before each bet, rounded half up; 2.00 on an empty market.
        var pools: [String: (yes: Int64, no: Int64)] = [:]
        var wrongOdds = 0
        for row in try await db.query("SELECT market_id, outcome, stake, odds_hundredths, potential_win FROM bets ORDER BY id").rows {
            let market = row[0]!, yes = row[1] == "YES", stake = Int64(row[2]!)!
            let (odds, win) = (Int64(row[3]!)!, Int64(row[4]!)!)
            let pool = pools[market, default: (0, 0)]
            let total = pool.yes + pool.no, side = yes ? pool.yes : pool.no
            let expected = total == 0 ? 200 : ((total + stake) * 200 + (side + stake)) / (2 * (side + stake))
            if odds != expected || win != stake * odds / 100 { wrongOdds += 1 }
            pools[market] = yes ? (pool.yes + stake, pool.no) : (pool.yes, pool.no + stake)
        }
        #expect(wrongOdds == 0)

        // Replaying the ledger in time order, no stake ever exceeds the balance of that moment.
        var balances: [String: Int64] = [:]
        var overdrawn = 0
        for row in try await db.query("SELECT user_id, amount FROM transactions ORDER BY created_at, id").rows {
            let balance = balances[row[0]!, default: 10_000] + Int64(row[1]!)!
            if balance < 0 { overdrawn += 1 }
            balances[row[0]!] = balance
        }
        #expect(overdrawn == 0)

        // Bets of resolved markets were placed before the end date and settled by the result;
        // bets of active markets wait.
        #expect(
            try await count(
                db,
                """
                SELECT count(*) FROM bets b JOIN markets m ON m.id = b.market_id
                WHERE (m.status = 'Resolved' AND (b.created_at >= m.end_date OR b.resolved_at <> m.resolved_at
                       OR b.status <> CASE WHEN b.outcome = m.result THEN 'WON' ELSE 'LOST' END))
                   OR (m.status = 'Active' AND (b.status <> 'PENDING' OR b.resolved_at IS NOT NULL OR m.end_date <= to_timestamp(\(fixedNow))))
                """) == 0)
        #expect(
            try await count(
                db,
                """
                SELECT count(*) FROM markets WHERE status = 'Resolved'
                  AND (result IS NULL OR resolution <> result OR end_date >= resolved_at OR resolved_at >= to_timestamp(\(fixedNow)))
                """) == 0)
        // WIN rows are written when the market settles.
        #expect(
            try await count(
                db,
                """
                SELECT count(*) FROM transactions t JOIN bets b ON t.effect_key = 'bet:' || b.id || ':WIN'
                JOIN markets m ON m.id = b.market_id WHERE t.created_at <> m.resolved_at
                """) == 0)

        // Streaks and ranks from the settled bets in settlement order.
        var streak: [String: (current: Int, best: Int, wins: Int)] = [:]
        for row in try await db.query(
            "SELECT user_id, status FROM bets WHERE status IN ('WON', 'LOST') ORDER BY resolved_at, market_id, id"
        ).rows {
            var s = streak[row[0]!, default: (0, 0, 0)]
            if row[1] == "WON" {
                s.current += 1
                s.wins += 1
                s.best = max(s.best, s.current)
            } else {
                s.current = 0
            }
            streak[row[0]!] = s
        }
        var wrongStreaks = 0
        let users = try await db.query(
            "SELECT id, win_streak, best_streak, rank, total_volume, (SELECT coalesce(sum(stake), 0) FROM bets WHERE user_id = u.id) AS staked FROM users u"
        )
        for row in users.rows {
            let s = streak[row[0]!, default: (0, 0, 0)]
            if row[1] != String(s.current) || row[2] != String(s.best) || row[3] != Rank(totalWins: Int64(s.wins)).rawValue
                || row[4] != row[5]
            {
                wrongStreaks += 1
            }
        }
        #expect(wrongStreaks == 0)
        #expect(streak.values.contains { $0.best >= 2 })

        // Some high rollers, mostly small stakes; unique telegram ids and referral codes (constraints).
        #expect(try await count(db, "SELECT count(*) FROM bets WHERE stake >= 1000") > 0)
        #expect(try await count(db, "SELECT count(*) FROM bets WHERE stake <= 100") > 2_500)
        try await fresh.drop(db)
    }

    @Test("the same seed gives identical rows; another seed does not")
    func deterministic() async throws {
        func digest(_ seedValue: UInt64) async throws -> [String] {
            let (fresh, db) = try await migrated()
            _ = try await seed(db, seed: seedValue)
            var digests: [String] = []
            for table in ["users", "markets", "bets", "transactions"] {
                digests.append(try await db.query("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM \(table) t").rows[0][0] ?? "")
            }
            try await fresh.drop(db)
            return digests
        }
        let first = try await digest(7)
        let second = try await digest(7)
        let other = try await digest(8)
        #expect(first == second)
        #expect(first.allSatisfy { !$0.isEmpty })
        #expect(zip(first, other).allSatisfy { $0 != $1 })
    }

    @Test("seeding appends after existing rows and moves the sequences past them")
    func appends() async throws {
        let (fresh, db) = try await migrated()
        try await db.query("INSERT INTO users (telegram_id, username) VALUES (700000000, 'before')")
        let first = try await seed(db, users: 50, markets: 3, bets: 500, seed: 1)
        let second = try await seed(db, users: 50, markets: 3, bets: 500, seed: 2)
        #expect(first.userIDs == 2...51)
        #expect(second.userIDs == 52...101)
        #expect(second.marketIDs == [4, 5, 6])
        #expect(second.betIDs == 501...1000)
        #expect(try await count(db, "SELECT min(telegram_id) FROM users WHERE id > 1") > 700_000_000)
        #expect(try await count(db, "SELECT count(*) FROM bets") == 1_000)
        // The application's next rows get fresh ids from the sequences.
        #expect(try await count(db, "INSERT INTO users (telegram_id) VALUES (1) RETURNING id") == 102)
        #expect(try await count(db, "INSERT INTO markets (title, category, end_date) VALUES ('t', 'Tech', now()) RETURNING id") == 7)
        #expect(failing(try await Auditor().run(on: db)) == [])
        try await fresh.drop(db)
    }

    @Test("one market without resolutions: one Active market holding every bet, PENDING")
    func oneMarket() async throws {
        let (fresh, db) = try await migrated()
        let report = try await seed(db, users: 100, markets: 1, bets: 2_000, resolvedFraction: 0)
        #expect(report.resolvedMarketIDs.isEmpty)
        let market = try #require(report.activeMarketIDs.first)
        #expect(report.pendingBets == 2_000)
        #expect(try await count(db, "SELECT count(*) FROM bets WHERE status = 'PENDING' AND market_id = \(market)") == 2_000)
        #expect(try await count(db, "SELECT count(*) FROM markets WHERE status = 'Active' AND total_pool > 0") == 1)
        #expect(failing(try await Auditor().run(on: db)) == [])
        // With one market the default fraction resolves none either.
        #expect(Seeder.Configuration(users: 1, markets: 1, bets: 1).resolvedMarkets == 0)
        #expect(Seeder.Configuration(users: 1, markets: 2, bets: 1).resolvedMarkets == 1)
        try await fresh.drop(db)
    }

    @Test("an unmigrated database is refused with a clear message; bad counts are refused up front")
    func refusals() async throws {
        let fresh = FreshDatabase()
        let db = try await fresh.create()
        let error = await #expect(throws: SeederError.self) {
            try await Seeder(.init(users: 10, markets: 2, bets: 10)).run(on: db)
        }
        #expect(error?.description.contains("run `thepred migrate` first") == true)
        #expect(error?.description.contains("no table users") == true)
        #expect(throws: SeederError.self) { try Seeder(.init(users: 0, markets: 1, bets: 1)) }
        #expect(throws: SeederError.self) { try Seeder(.init(users: 1, markets: 1, bets: 1, resolvedFraction: 1.5)) }
        try await fresh.drop(db)
    }

    @Test("users who run out of PRED stop the seed, and nothing is written")
    func outOfMoney() async throws {
        let (fresh, db) = try await migrated()
        let error = await #expect(throws: SeederError.self) {
            _ = try await seed(db, users: 1, markets: 1, bets: 20_000, resolvedFraction: 0)
        }
        #expect(error?.description.contains("out of PRED") == true)
        #expect(try await count(db, "SELECT count(*) FROM users") == 0)
        try await fresh.drop(db)
    }

    @Test("each kind of corruption is reported by its check, and only by it")
    func corruption() async throws {
        let (fresh, db) = try await migrated()
        _ = try await seed(db)
        #expect(failing(try await Auditor().run(on: db)) == [])

        let won = try await db.query("SELECT id, user_id, potential_win FROM bets WHERE status = 'WON' ORDER BY id LIMIT 1").rows[0]
        let (wonBet, winner, payout) = (won[0]!, won[1]!, won[2]!)
        let lost = try await db.query("SELECT id, user_id, stake FROM bets WHERE status = 'LOST' ORDER BY id LIMIT 1").rows[0]
        let (lostBet, loser, lostStake) = (lost[0]!, lost[1]!, lost[2]!)
        let market = try await db.query("SELECT min(id) FROM markets").rows[0][0]!
        let mission = try await db.query("SELECT id, reward FROM missions WHERE kind = 'FIRST_BET'").rows[0]
        let (missionID, reward) = (mission[0]!, mission[1]!)

        /// Applies `corrupt`, expects exactly `check` to fail with `violations` and its first
        /// example to mention `mentions`, then applies `repair` and expects a clean audit.
        func expectOnly(
            _ check: Auditor.Check, violations: Int, mentions: String, corrupt: [String], repair: [String],
            sourceLocation: SourceLocation = #_sourceLocation
        ) async throws {
            try await db.transaction { tx in for sql in corrupt { try tx.query(sql) } }
            let report = try await Auditor().run(on: db)
            #expect(failing(report) == [check], sourceLocation: sourceLocation)
            #expect(report[check].violations == violations, "\(report[check].examples)", sourceLocation: sourceLocation)
            #expect(report[check].examples.first?.contains(mentions) == true, "\(report[check].examples)", sourceLocation: sourceLocation)
            try await db.transaction { tx in for sql in repair { try tx.query(sql) } }
            #expect(failing(try await Auditor().run(on: db)) == [], sourceLocation: sourceLocation)
        }

        // 1. A balance that moved without a ledger row.
        try await expectOnly(
            .balances, violations: 1, mentions: "user \(winner): balance",
            corrupt: ["UPDATE users SET balance = balance + 1 WHERE id = \(winner)"],
            repair: ["UPDATE users SET balance = balance - 1 WHERE id = \(winner)"])

        // 2. A pool that does not match its bets, then a total that is not the sum of its sides.
        try await expectOnly(
            .marketPools, violations: 1, mentions: "market \(market): pools",
            corrupt: ["UPDATE markets SET total_yes_bets = total_yes_bets + 5, total_pool = total_pool + 5 WHERE id = \(market)"],
            repair: ["UPDATE markets SET total_yes_bets = total_yes_bets - 5, total_pool = total_pool - 5 WHERE id = \(market)"])
        try await expectOnly(
            .marketPools, violations: 1, mentions: "market \(market): pools",
            corrupt: ["UPDATE markets SET total_pool = total_pool + 1 WHERE id = \(market)"],
            repair: ["UPDATE markets SET total_pool = total_pool - 1 WHERE id = \(market)"])

        // 3. A won bet paid a second time under a key that looks different; the balance took it,
        // so only the payout check can see it: the bet has two WIN rows, and one row is misnamed.
        try await expectOnly(
            .betPayouts, violations: 2, mentions: "bet \(wonBet) (WON",
            corrupt: [
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES (\(winner), 'WIN', \(payout), 'bet:\(wonBet):WIN:retry')",
                "UPDATE users SET balance = balance + \(payout) WHERE id = \(winner)",
            ],
            repair: [
                "DELETE FROM transactions WHERE effect_key = 'bet:\(wonBet):WIN:retry'",
                "UPDATE users SET balance = balance - \(payout) WHERE id = \(winner)",
            ])
        // A lost bet refunded under its proper key.
        try await expectOnly(
            .betPayouts, violations: 1, mentions: "bet \(lostBet) (LOST",
            corrupt: [
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES (\(loser), 'REFUND', \(lostStake), 'bet:\(lostBet):REFUND')",
                "UPDATE users SET balance = balance + \(lostStake) WHERE id = \(loser)",
            ],
            repair: [
                "DELETE FROM transactions WHERE effect_key = 'bet:\(lostBet):REFUND'",
                "UPDATE users SET balance = balance - \(lostStake) WHERE id = \(loser)",
            ])
        // A payout for a bet that does not exist.
        try await expectOnly(
            .betPayouts, violations: 1, mentions: "bet 999999999 does not exist",
            corrupt: [
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES (\(winner), 'WIN', 50, 'bet:999999999:WIN')",
                "UPDATE users SET balance = balance + 50 WHERE id = \(winner)",
            ],
            repair: [
                "DELETE FROM transactions WHERE effect_key = 'bet:999999999:WIN'",
                "UPDATE users SET balance = balance - 50 WHERE id = \(winner)",
            ])

        // 4. A mission marked completed without its reward.
        try await expectOnly(
            .missionRewards, violations: 1, mentions: "user \(winner), mission \(missionID) (FIRST_BET): completed, but 0",
            corrupt: ["INSERT INTO user_missions (user_id, mission_id, progress, completed_at) VALUES (\(winner), \(missionID), 1, now())"],
            repair: ["DELETE FROM user_missions WHERE user_id = \(winner) AND mission_id = \(missionID)"])
        // A mission rewarded properly is clean; a second reward under another key is not.
        try await db.transaction { tx in
            try tx.query(
                "INSERT INTO user_missions (user_id, mission_id, progress, completed_at) VALUES (\(winner), \(missionID), 1, now())")
            try tx.query(
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES (\(winner), 'MISSION', \(reward), 'mission:\(winner):\(missionID)')"
            )
            try tx.query("UPDATE users SET balance = balance + \(reward) WHERE id = \(winner)")
        }
        #expect(failing(try await Auditor().run(on: db)) == [])
        try await expectOnly(
            .missionRewards, violations: 2, mentions: "user \(winner), mission \(missionID) (FIRST_BET): completed, but 2",
            corrupt: [
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES (\(winner), 'MISSION', \(reward), 'mission:\(winner):\(missionID):again')",
                "UPDATE users SET balance = balance + \(reward) WHERE id = \(winner)",
            ],
            repair: [
                "DELETE FROM transactions WHERE effect_key = 'mission:\(winner):\(missionID):again'",
                "UPDATE users SET balance = balance - \(reward) WHERE id = \(winner)",
            ])

        // 5. A leaderboard reward for a period that is still open, then one paid twice.
        let period = try await db.query(
            """
            INSERT INTO leaderboard_periods (kind, starts_at, ends_at) VALUES ('WEEK', '2025-12-29', '2026-01-05') RETURNING id
            """
        ).rows[0][0]!
        try await expectOnly(
            .leaderboardRewards, violations: 1, mentions: "for period \(period) (WEEK",
            corrupt: [
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES (\(winner), 'LEADERBOARD', 100, 'leaderboard:\(period):\(winner)')",
                "UPDATE users SET balance = balance + 100 WHERE id = \(winner)",
            ],
            repair: ["UPDATE leaderboard_periods SET closed_at = now() WHERE id = \(period)"])
        try await expectOnly(
            .leaderboardRewards, violations: 2, mentions: "is keyed 'leaderboard:\(period):\(winner):2'",
            corrupt: [
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES (\(winner), 'LEADERBOARD', 100, 'leaderboard:\(period):\(winner):2')",
                "UPDATE users SET balance = balance + 100 WHERE id = \(winner)",
            ],
            repair: [
                "DELETE FROM transactions WHERE effect_key = 'leaderboard:\(period):\(winner):2'",
                "UPDATE users SET balance = balance - 100 WHERE id = \(winner)",
            ])

        // 6. A win counted that no bet shows.
        try await expectOnly(
            .userCounters, violations: 1, mentions: "user \(loser): total_wins",
            corrupt: ["UPDATE users SET total_wins = total_wins + 1 WHERE id = \(loser)"],
            repair: ["UPDATE users SET total_wins = total_wins - 1 WHERE id = \(loser)"])
        try await fresh.drop(db)
    }

    @Test("the audit lists at most the limit per check and counts the rest")
    func exampleLimit() async throws {
        let (fresh, db) = try await migrated()
        _ = try await seed(db, users: 50, markets: 3, bets: 300)
        try await db.query("UPDATE users SET balance = balance + 1")
        let report = try await Auditor(exampleLimit: 5).run(on: db)
        #expect(report[.balances].violations == 50)
        #expect(report[.balances].examples.count == 5)
        #expect(report.violations == 50 && !report.isClean)
        let none = try await Auditor(exampleLimit: 0).run(on: db)
        #expect(none[.balances].violations == 50 && none[.balances].examples.isEmpty)
        try await fresh.drop(db)
    }
}
