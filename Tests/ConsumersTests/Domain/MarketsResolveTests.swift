@testable import Game
import Jobs
import TestSupport
import Testing
import ThePredKinds

@Suite("markets.resolve", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct MarketsResolveTests {
    @Test("YES: winners paid potential_win, losers counted, streaks, ranks, messages and mission events")
    func resolveYes() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market(title: "BTC > <100k> & up?", yes: 500, no: 500)
        let winner = try await f.user(telegramID: 10)
        let loser = try await f.user(telegramID: 20)
        // The winner is one win short of Silver and on a streak of 2.
        try await f.db.query("UPDATE users SET total_wins = 10, win_streak = 2, best_streak = 2 WHERE id = $1", [.int(winner)])
        try await f.db.query("UPDATE users SET win_streak = 4, best_streak = 4 WHERE id = $1", [.int(loser)])
        try await f.bet(10, on: market, .yes, stake: 100)  // odds 1.83 -> 183
        try await f.bet(20, on: market, .no, stake: 200)
        _ = try await f.take(MissionsProgress.kind)

        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes))

        let m = try await f.db.query("SELECT status, result, resolved_at IS NOT NULL AS done FROM markets WHERE id = $1", [.int(market)])
        #expect(m[0, "status"] == "Resolved" && m[0, "result"] == "YES" && m.bool(0, "done"))
        let w = try await f.db.query("SELECT balance, total_wins, win_streak, best_streak, rank FROM users WHERE id = $1", [.int(winner)])
        #expect(w[0, "balance"] == "\(10_000 - 100 + 183)")
        #expect(w[0, "total_wins"] == "11" && w[0, "win_streak"] == "3" && w[0, "best_streak"] == "3" && w[0, "rank"] == "Silver")
        let l = try await f.db.query("SELECT balance, total_losses, win_streak, best_streak FROM users WHERE id = $1", [.int(loser)])
        #expect(l[0, "balance"] == "9800" && l[0, "total_losses"] == "1" && l[0, "win_streak"] == "0" && l[0, "best_streak"] == "4")
        #expect(try await f.string("SELECT string_agg(status, ',' ORDER BY id) FROM bets") == "WON,LOST")

        // Nothing is queued by the resolve itself: its producer makes the messages as the lane drains.
        #expect(try await f.take(TelegramSend.resultsKind).isEmpty)
        let (messages, events) = try await f.notifications(of: market)
        #expect(messages.map(\.kind) == [.betWon, .betLost])
        #expect(messages.map(\.telegramID) == [10, 20])
        #expect(messages.allSatisfy { $0.marketID == market })
        #expect(messages[0].text == "🎉 You won <b>183 PRED</b> on “BTC &gt; &lt;100k&gt; &amp; up?”.")
        #expect(events.map(\.userID) == [winner])
        #expect(events.map(\.event) == [.betSettled])
        let status = try #require(try await MarketNotificationBacklog.status(market, db: f.db))
        #expect(status.totalBets == 2 && status.queued == 2 && status.toProduce == 0 && status.pending == 2 && status.eventsLeft == 0)
        #expect(status.producedAt != nil)
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("NO, with a user who bet both sides: streak follows the bets in order")
    func resolveNoBothSides() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market()
        let user = try await f.user(telegramID: 1)
        try await f.db.query("UPDATE users SET win_streak = 5, best_streak = 5 WHERE id = $1", [.int(user)])
        try await f.bet(1, on: market, .no, stake: 10)  // won: streak 6
        try await f.bet(1, on: market, .yes, stake: 10)  // lost: streak 0
        try await f.bet(1, on: market, .no, stake: 10)  // won: streak 1
        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .no))
        let u = try await f.db.query("SELECT total_wins, total_losses, win_streak, best_streak FROM users WHERE id = $1", [.int(user)])
        #expect(u[0, "total_wins"] == "2" && u[0, "total_losses"] == "1" && u[0, "win_streak"] == "1" && u[0, "best_streak"] == "6")
        #expect(try await f.string("SELECT result FROM markets WHERE id = $1", [.int(market)]) == "NO")
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("CANCELLED refunds every stake and leaves wins, losses and streaks alone")
    func resolveCancelled() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market()
        for tg in Int64(1)...3 { try await f.user(telegramID: tg) }
        try await f.bet(1, on: market, .yes, stake: 100)
        try await f.bet(2, on: market, .no, stake: 250)
        try await f.bet(3, on: market, .yes, stake: 1)
        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .cancelled))
        #expect(try await f.string("SELECT status || coalesce(result, '-') FROM markets WHERE id = $1", [.int(market)]) == "Cancelled-")
        #expect(try await f.int("SELECT count(*) FROM users WHERE balance <> 10000") == 0)
        #expect(try await f.int("SELECT count(*) FROM bets WHERE status = 'REFUNDED'") == 3)
        #expect(try await f.int("SELECT count(*) FROM users WHERE total_wins + total_losses + win_streak > 0") == 0)
        let (messages, events) = try await f.notifications(of: market)
        #expect(messages.count == 3 && messages.allSatisfy { $0.kind == .marketResolved })
        #expect(messages.contains { $0.text == "Market “Will it rain?” was cancelled: refund <b>250 PRED</b>." })
        #expect(events.filter { $0.event == .betSettled }.isEmpty)
        try await f.expectLedgerConsistent()
        try await f.expectAuditClean()
        try await f.drop()
    }

    @Test("the same resolve delivered twice pays once; another resolve of a resolved market fails and changes nothing")
    func deliveredTwice() async throws {
        let f = try await DomainFixture.make(settlementChunk: 7)
        let market = try await f.market()
        for tg in Int64(1)...20 {
            try await f.user(telegramID: tg)
            try await f.bet(tg, on: market, tg % 3 == 0 ? .no : .yes, stake: 10 * tg)
        }
        let id = JobID.generate(millis: 9)
        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes), id: id)
        let after = try await f.fingerprint()
        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes), id: id, deliveries: 2)
        #expect(try await f.fingerprint() == after)
        #expect(
            try await f.rejection(MarketsResolve.kind, MarketsResolve(marketID: market, result: .no))
                == "market \(market) is already resolved: Resolved YES")
        #expect(
            try await f.rejection(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes))
                == "market \(market) is already resolved: Resolved YES")
        #expect(try await f.fingerprint() == after)
        #expect(
            try await f.rejection(MarketsResolve.kind, MarketsResolve(marketID: 424_242, result: .yes)) == "market 424242 does not exist")
        // One producer, however often the job ran: repeats carry its one idempotency key.
        #expect(try await f.notifications(of: market).messages.count == 20)
        try await f.expectLedgerConsistent()
        try await f.expectAuditClean()
        try await f.drop()
    }

    @Test("two workers on one market settle each bet once")
    func twoWorkers() async throws {
        let f = try await DomainFixture.make(settlementChunk: 50)
        let market = try await f.market()
        try await f.db.query("INSERT INTO users (telegram_id) SELECT g FROM generate_series(1, 200) g")
        // 2,000 bets placed directly, with their ledger rows, balances and pools.
        try await f.db.query(
            """
            WITH b AS (
                INSERT INTO bets (user_id, market_id, outcome, stake, odds_hundredths, potential_win, job_id)
                SELECT 1 + g % 200, $1, CASE WHEN g % 2 = 0 THEN 'YES' ELSE 'NO' END, 1 + g % 7, 200, 2 * (1 + g % 7), 'j' || g
                  FROM generate_series(1, 2000) g RETURNING id, user_id, stake, outcome
            ), l AS (
                INSERT INTO transactions (user_id, type, amount, effect_key) SELECT user_id, 'BET', -stake, 'bet:' || id || ':BET' FROM b
            ), u AS (
                UPDATE users SET balance = balance - s.total, total_bets = s.n
                  FROM (SELECT user_id, sum(stake) AS total, count(*) AS n FROM b GROUP BY user_id) s WHERE users.id = s.user_id
            )
            UPDATE markets SET total_yes_bets = (SELECT sum(stake) FROM b WHERE outcome = 'YES'),
                   total_no_bets = (SELECT sum(stake) FROM b WHERE outcome = 'NO'), total_pool = (SELECT sum(stake) FROM b)
             WHERE id = $1
            """, [.int(market)])
        try await f.expectLedgerConsistent()
        try await f.expectAuditClean()
        async let a: Void = f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes))
        async let b: Void = f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes))
        _ = try await (a, b)
        #expect(try await f.int("SELECT count(*) FROM bets WHERE status = 'PENDING'") == 0)
        #expect(try await f.int("SELECT count(*) FROM transactions WHERE type = 'WIN'") == 1_000)
        #expect(try await f.int("SELECT sum(total_wins + total_losses) FROM users") == 2_000)
        #expect(try await f.string("SELECT status FROM markets WHERE id = $1", [.int(market)]) == "Resolved")
        // Two runs of the producer would be one job (one key); the top-up makes it take seven rounds.
        let messages = try await f.notifications(of: market).messages
        #expect(messages.count == 2_000 && Set(messages.map(\.text)).count > 1)
        #expect(try await f.int("SELECT queued FROM market_notifications WHERE market_id = $1", [.int(market)]) == 2_000)
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("a settlement that crashed after a commit resumes: every message goes out once, nothing is paid twice")
    func resumesAfterCrash() async throws {
        let f = try await DomainFixture.make(settlementChunk: 4)
        let market = try await f.market()
        for tg in Int64(1)...10 {
            try await f.user(telegramID: tg)
            try await f.bet(tg, on: market, .yes, stake: 5)
        }
        // The first run claimed the market and committed one chunk, then died.
        let handler = MarketsResolveHandler(db: f.db, chunkSize: 4)
        let job = JobID.generate(millis: 5)
        let claimed = try #require(try await handler.begin(MarketsResolve(marketID: market, result: .yes), jobID: job.rawValue))
        _ = try #require(try await handler.settleChunk(claimed, after: 0))
        #expect(try await f.int("SELECT count(*) FROM bets WHERE status = 'WON'") == 4)
        #expect(try await f.take(TelegramSend.resultsKind).isEmpty)
        // A resolve with another result must not take over a half-settled market.
        #expect(
            try await f.rejection(MarketsResolve.kind, MarketsResolve(marketID: market, result: .no))
                == "market \(market) is being resolved as YES")

        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes), id: job, deliveries: 2)
        let messages = try await f.notifications(of: market).messages
        #expect(messages.count == 10)
        #expect(Set(messages.map(\.telegramID)).count == 10)
        #expect(try await f.int("SELECT count(*) FROM transactions WHERE type = 'WIN'") == 10)
        try await f.expectLedgerConsistent()
        try await f.expectAuditClean()
        try await f.drop()
    }
}
