@testable import Game
import Jobs
import TestSupport
import Testing
import ThePredKinds

@Suite("bets.place", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct BetsPlaceTests {
    @Test("odds and potential_win as domain.md computes them")
    func oddsExample() {
        #expect(Odds.hundredths(totalPool: 1_000, outcomePool: 500, stake: 100) == 183)
        #expect(Odds.potentialWin(stake: 100, hundredths: 183) == 183)
        #expect(Odds.hundredths(totalPool: 0, outcomePool: 0, stake: 50) == 200)
        // 1.835 rounds half up to 1.84; 1.8349 to 1.83.
        #expect(Odds.hundredths(totalPool: 267, outcomePool: 100, stake: 100) == 184)  // 367/200 = 1.835
        #expect(Odds.potentialWin(stake: 7, hundredths: 183) == 12)  // floor(12.81)
    }

    /// Pools near Int64's bounds (a corrupted row, or years of volume) trapped the odds arithmetic.
    @Test("odds and payouts that do not fit in Int64 are nil, not a trap")
    func oddsOverflow() {
        #expect(Odds.hundredths(totalPool: .max - 10, outcomePool: 1, stake: 100) == nil)
        #expect(Odds.hundredths(totalPool: .max / 100, outcomePool: 0, stake: 1) == nil)
        #expect(Odds.hundredths(totalPool: 1, outcomePool: .max, stake: 1) == nil)
        #expect(Odds.hundredths(totalPool: 1, outcomePool: -1, stake: 1) == nil)
        #expect(Odds.potentialWin(stake: .max / 2, hundredths: 183) == nil)
        #expect(Odds.hundredths(totalPool: .max / 1_000, outcomePool: .max / 2_000, stake: 1) == 200)
    }

    @Test("a bet on a market whose pools would overflow the odds is refused, and nothing changes")
    func overflowingPools() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market(yes: Int64.max / 4, no: Int64.max / 4)
        try await f.user(telegramID: 5)
        let before = try await f.fingerprint()
        let reason = try await f.rejection(BetsPlace.kind, BetsPlace(telegramID: 5, marketID: market, outcome: .yes, stake: 10))
        #expect(reason.contains("do not fit in a 64-bit amount"))
        #expect(try await f.fingerprint() == before)
    }

    @Test("a bet debits the stake with its ledger row, grows the pools and counts, in one go")
    func placesOneBet() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market(category: .sports, yes: 500, no: 500)
        let user = try await f.user(telegramID: 7)
        try await f.bet(7, on: market, .yes, stake: 100)

        let bet = try await f.db.query(
            "SELECT outcome, stake, odds_hundredths, potential_win, status FROM bets WHERE user_id = $1", [.int(user)])
        #expect(bet.count == 1)
        #expect(bet[0, "odds_hundredths"] == "183" && bet[0, "potential_win"] == "183" && bet[0, "status"] == "PENDING")
        #expect(try await f.int("SELECT balance FROM users WHERE id = $1", [.int(user)]) == 9_900)
        #expect(try await f.int("SELECT total_bets FROM users WHERE id = $1", [.int(user)]) == 1)
        #expect(try await f.int("SELECT total_volume FROM users WHERE id = $1", [.int(user)]) == 100)
        let pools = try await f.db.query("SELECT total_yes_bets, total_no_bets, total_pool FROM markets WHERE id = $1", [.int(market)])
        #expect(pools[0, "total_yes_bets"] == "600" && pools[0, "total_no_bets"] == "500" && pools[0, "total_pool"] == "1100")
        #expect(try await f.int("SELECT amount FROM transactions WHERE type = 'BET' AND user_id = $1", [.int(user)]) == -100)
        let events = try await f.take(MissionsProgress.kind)
        #expect(events.map(\.event) == [.betPlaced])
        #expect(events.first?.userID == user)
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("the first bet on an empty market gets odds 2.00; a new user is registered with 10,000 PRED")
    func emptyMarketNewUser() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market()
        try await f.bet(99, on: market, .no, stake: 10)
        let row = try await f.db.query(
            "SELECT b.odds_hundredths, b.potential_win, u.balance FROM bets b JOIN users u ON u.id = b.user_id WHERE u.telegram_id = 99")
        #expect(row[0, "odds_hundredths"] == "200" && row[0, "potential_win"] == "20" && row[0, "balance"] == "9990")
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("the same job run twice places one bet and debits once")
    func idempotentOnJobID() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market()
        let user = try await f.user(telegramID: 5)
        let id = JobID.generate(millis: 42)
        let payload = BetsPlace(telegramID: 5, marketID: market, outcome: .yes, stake: 300)
        try await f.run(BetsPlace.kind, payload, id: id)
        try await f.run(BetsPlace.kind, payload, id: id, deliveries: 2)
        // Two runs at once: the market lock makes the second find the first one's bet.
        let again = JobID.generate(millis: 43)
        async let a: Void = f.run(BetsPlace.kind, payload, id: again)
        async let b: Void = f.run(BetsPlace.kind, payload, id: again)
        _ = try await (a, b)
        #expect(try await f.int("SELECT count(*) FROM bets") == 2)
        #expect(try await f.int("SELECT balance FROM users WHERE id = $1", [.int(user)]) == 9_400)
        // Every run emits the event; its id is the same, so missions count it once.
        #expect(Set(try await f.take(MissionsProgress.kind).map(\.eventID)).count == 2)
        try await f.expectLedgerConsistent()
        try await f.expectAuditClean()
        try await f.drop()
    }

    @Test("every business-rule failure is rejected, says why, and leaves the database unchanged")
    func refusals() async throws {
        let f = try await DomainFixture.make()
        let open = try await f.market()
        let ended = try await f.market(endsIn: -60)
        let resolved = try await f.market()
        try await f.db.query("UPDATE markets SET status = 'Resolved', result = 'YES', resolution = 'YES' WHERE id = $1", [.int(resolved)])
        let resolving = try await f.market()
        try await f.db.query("UPDATE markets SET resolution = 'NO' WHERE id = $1", [.int(resolving)])
        try await f.user(telegramID: 1, balance: 50)
        try await f.user(telegramID: 2, banned: true)
        let before = try await f.fingerprint()

        let cases: [(BetsPlace, String)] = [
            (BetsPlace(telegramID: 1, marketID: open, outcome: .yes, stake: 51), "insufficient balance: stake 51 PRED, balance 50 PRED"),
            (BetsPlace(telegramID: 1, marketID: open, outcome: .yes, stake: 0), "stake must be at least 1 PRED, got 0"),
            (BetsPlace(telegramID: 2, marketID: open, outcome: .yes, stake: 1), "user is banned"),
            (
                BetsPlace(telegramID: 3, marketID: open, outcome: .no, stake: 10_001),
                "insufficient balance: stake 10001 PRED, balance 10000 PRED"
            ),
            (BetsPlace(telegramID: 1, marketID: ended, outcome: .yes, stake: 1), "market \(ended) is closed: its end date has passed"),
            (BetsPlace(telegramID: 1, marketID: resolved, outcome: .yes, stake: 1), "market \(resolved) is closed: it is Resolved"),
            (BetsPlace(telegramID: 1, marketID: resolving, outcome: .yes, stake: 1), "market \(resolving) is closed: it is being resolved"),
            (BetsPlace(telegramID: 1, marketID: 999_999, outcome: .yes, stake: 1), "market 999999 does not exist"),
        ]
        for (payload, reason) in cases {
            #expect(try await f.rejection(BetsPlace.kind, payload) == reason)
        }
        // A Telegram id outside the schema is a producer's bug: a dead letter, and nothing placed.
        for id in [Int64.min, 0, .max] {
            #expect(
                try await f.failure(BetsPlace.kind, BetsPlace(telegramID: id, marketID: open, outcome: .yes, stake: 1)).contains(
                    "outside the schema"))
        }
        #expect(try await f.fingerprint() == before)
        #expect(try await f.take(MissionsProgress.kind).isEmpty)
        try await f.drop()
    }
}
