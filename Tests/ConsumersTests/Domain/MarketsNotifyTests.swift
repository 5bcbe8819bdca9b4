@testable import Game
import Jobs
import Postgres
import TestSupport
import Testing
import ThePredKinds

@Suite("markets.notify", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct MarketsNotifyTests {
    /// A resolved market with `bets` bets of `users` users, placed directly (with their ledger rows).
    /// Bet g stakes g PRED, so each bet's message has a text of its own.
    static func resolvedMarket(_ f: DomainFixture, bets: Int, users: Int) async throws -> Int64 {
        let market = try await f.market()
        try await f.db.query("INSERT INTO users (telegram_id) SELECT 1000 + g FROM generate_series(1, $1::int) g", [.int(Int64(users))])
        try await f.db.query(
            """
            WITH b AS (
                INSERT INTO bets (user_id, market_id, outcome, stake, odds_hundredths, potential_win, job_id)
                SELECT u.id, $1, CASE WHEN g % 2 = 0 THEN 'YES' ELSE 'NO' END, g, 200, 2 * g, 'j' || g
                  FROM generate_series(1, $2::int) g JOIN users u ON u.telegram_id = 1000 + 1 + g % $3::int RETURNING id, user_id, stake
            ), l AS (
                INSERT INTO transactions (user_id, type, amount, effect_key) SELECT user_id, 'BET', -stake, 'bet:' || id || ':BET' FROM b
            )
            UPDATE users SET balance = balance - s.total, total_bets = s.n
              FROM (SELECT user_id, sum(stake) AS total, count(*) AS n FROM b GROUP BY user_id) s WHERE users.id = s.user_id
            """, [.int(market), .int(Int64(bets)), .int(Int64(users))])
        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .yes))
        return market
    }

    @Test("messages are produced a top-up at a time, and the backlog stays in PostgreSQL until the queue drains")
    func pacedByTheQueue() async throws {
        let f = try await DomainFixture.make(fanoutChunk: 100)
        let market = try await Self.resolvedMarket(f, bets: 1_000, users: 250)
        #expect(try await f.take(MarketsNotify.kind) == [MarketsNotify(marketID: market)])
        // Nothing drains the results queue: one run fills it to the top-up and snoozes.
        let snooze = try await Self.snoozed(f, market)
        #expect(snooze == .seconds(1))
        #expect(try await f.driver.stats(queue: TelegramSend.resultsKind.queue).ready == 300)
        let status = try #require(try await MarketNotificationBacklog.status(market, db: f.db))
        #expect(status.totalBets == 1_000 && status.queued == 300 && status.toProduce == 700 && status.producedAt == nil)
        // The winners' events went to their own queue, which had room for all of them.
        let winners = try await f.int("SELECT count(DISTINCT user_id) FROM bets WHERE status = 'WON' AND market_id = $1", [.int(market)])
        #expect(winners == 125 && status.eventsLeft == 0)
        #expect(try await f.driver.stats(queue: MissionsProgress.kind.queue).ready == 125)
        // Again, with the queue still full: nothing more.
        _ = try await Self.snoozed(f, market)
        #expect(try await MarketNotificationBacklog.status(market, db: f.db)?.queued == 300)
        try await f.drop()
    }

    @Test("a producer that died between its enqueue and its checkpoint queues nobody twice and skips nobody")
    func diedBeforeTheCheckpoint() async throws {
        let f = try await DomainFixture.make(fanoutChunk: 100)
        let market = try await Self.resolvedMarket(f, bets: 450, users: 90)
        _ = try await f.take(MarketsNotify.kind)
        _ = try await Self.snoozed(f, market)
        var messages = try await f.take(TelegramSend.resultsKind)
        #expect(messages.count == 300)
        // Its last chunk was queued, but the cursor write did not land: the cursor is a chunk back.
        try await f.db.query(
            """
            UPDATE market_notifications SET after_bet_id = (SELECT id FROM bets WHERE market_id = $1 ORDER BY id OFFSET 199 LIMIT 1),
                   queued = 200 WHERE market_id = $1
            """, [.int(market)])
        // The chunk queued again carries the same keys: the queue takes none of it twice.
        messages += try await f.notifications(of: market, expectQueued: false).messages
        #expect(messages.count == 450)
        #expect(Set(messages.map(\.text)).count == 450)
        #expect(try await MarketNotificationBacklog.status(market, db: f.db)?.queued == 450)
        try await f.drop()
    }

    @Test("users who blocked the bot are skipped and counted; nothing counts as sent before it is")
    func skippedAndCounted() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market()
        for tg in Int64(1)...4 { try await f.user(telegramID: tg) }
        for tg in Int64(1)...4 { try await f.bet(tg, on: market, .yes, stake: 10) }
        try await f.db.query("UPDATE users SET unreachable = true WHERE telegram_id = 4")
        try await f.run(MarketsResolve.kind, MarketsResolve(marketID: market, result: .no))
        let messages = try await f.notifications(of: market).messages
        #expect(messages.map(\.telegramID).sorted() == [1, 2, 3])
        let status = try #require(try await MarketNotificationBacklog.status(market, db: f.db))
        #expect(status.skipped == 1 && status.queued == 3 && status.pending == 3 && status.sent == 0)
        try await f.drop()
    }

    @Test("a market that is not resolved, or does not exist, has nothing to notify")
    func notResolved() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market()
        #expect(
            try await f.failure(MarketsNotify.kind, MarketsNotify(marketID: market))
                == "market \(market) is not resolved; nothing to notify")
        #expect(try await f.failure(MarketsNotify.kind, MarketsNotify(marketID: 987_654)) == "market 987654 does not exist")
        try await f.drop()
    }

    /// Runs the producer once; it must snooze. Returns the delay.
    static func snoozed(_ f: DomainFixture, _ market: Int64) async throws -> Duration? {
        do {
            try await f.run(MarketsNotify.kind, MarketsNotify(marketID: market))
        } catch let failure as JobFailure {
            return failure.snoozeDelay
        }
        Issue.record("markets.notify ended instead of snoozing")
        return nil
    }
}
