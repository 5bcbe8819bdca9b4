@testable import Game
import Foundation
import Jobs
import Producers
import TestSupport
import Testing
import ThePredKinds

/// Milliseconds of an ISO 8601 instant, read by Foundation, to check the period arithmetic against.
func ms(_ iso: String) -> Int64 {
    Int64(ISO8601DateFormatter().date(from: iso)!.timeIntervalSince1970 * 1000)
}

@Suite("Leaderboard periods")
struct LeaderboardPeriodTests {
    @Test("a week runs Monday 00:00 to Sunday 23:59:59.999 UTC")
    func weeks() {
        let week = LeaderboardPeriod.containing(ms("2026-11-29T23:59:59Z"), kind: .week)  // a Sunday
        #expect(week.startsAt == ms("2026-11-23T00:00:00Z") && week.endsAt == ms("2026-11-30T00:00:00Z"))
        #expect(LeaderboardPeriod.containing(ms("2026-11-30T00:00:00Z"), kind: .week).startsAt == ms("2026-11-30T00:00:00Z"))
        #expect(LeaderboardPeriod.containing(ms("2026-11-30T00:00:00Z") - 1, kind: .week) == week)
        // Across a year end, and before 1970.
        #expect(LeaderboardPeriod.containing(ms("2027-01-01T12:00:00Z"), kind: .week).startsAt == ms("2026-12-28T00:00:00Z"))
        #expect(LeaderboardPeriod.containing(ms("1969-12-31T00:00:00Z"), kind: .week).startsAt == ms("1969-12-29T00:00:00Z"))
        #expect(LeaderboardPeriod.lastEnded(before: ms("2026-11-30T00:00:00Z"), kind: .week) == week)
        #expect(week.description == "WEEK 2026-11-23")
    }

    @Test("a month runs from the 1st to the last day 23:59:59.999 UTC, December into January")
    func months() {
        let december = LeaderboardPeriod.containing(ms("2026-12-31T23:59:59Z"), kind: .month)
        #expect(december.startsAt == ms("2026-12-01T00:00:00Z") && december.endsAt == ms("2027-01-01T00:00:00Z"))
        #expect(LeaderboardPeriod.lastEnded(before: ms("2027-01-01T00:00:00Z"), kind: .month) == december)
        #expect(LeaderboardPeriod.lastEnded(before: ms("2027-01-15T08:00:00Z"), kind: .month) == december)
        let leapFebruary = LeaderboardPeriod.containing(ms("2028-02-29T10:00:00Z"), kind: .month)
        #expect(leapFebruary.endsAt == ms("2028-03-01T00:00:00Z"))
        #expect(LeaderboardPeriod.isValidDay("2028-02-29") && !LeaderboardPeriod.isValidDay("2027-02-29"))
        #expect(LeaderboardPeriod.utcDay(ms("2026-11-25T23:59:59Z")) == "2026-11-25")
    }

    @Test("the schedules close the period that just ended")
    func schedules() throws {
        let schedules = Dictionary(uniqueKeysWithValues: AppSchedules.all().map { ($0.name, $0) })
        let week = try #require(schedules["leaderboard-week"])
        let month = try #require(schedules["leaderboard-month"])
        #expect(week.cron.next(after: ms("2026-11-25T10:00:00Z")) == ms("2026-11-30T00:00:00Z"))
        #expect(month.cron.next(after: ms("2026-12-15T10:00:00Z")) == ms("2027-01-01T00:00:00Z"))
    }
}

@Suite("leaderboard.close", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct LeaderboardCloseTests {
    /// A settled bet created at `at`, written directly.
    static func bet(_ f: DomainFixture, user: Int64, market: Int64, at: String, status: String, stake: Int64, win: Int64) async throws {
        try await f.db.query(
            """
            INSERT INTO bets (user_id, market_id, outcome, stake, odds_hundredths, potential_win, status, job_id, created_at)
            VALUES ($1, $2, 'YES', $3, 200, $4, $5, $6, $7::timestamptz)
            """, [.int(user), .int(market), .int(stake), .int(win), .text(status), .text(UUID().uuidString), .text(at)])
    }

    @Test("ranks by profit, then total wins, then user id; writes the snapshot and pays the tiers once")
    func closesWeek() async throws {
        let f = try await DomainFixture.make()
        let market = try await f.market()
        var users: [Int64] = []
        for tg in Int64(1)...5 { users.append(try await f.user(telegramID: tg)) }
        try await f.db.query("UPDATE users SET total_wins = 3 WHERE id = $1", [.int(users[3])])
        try await f.db.query("UPDATE users SET unreachable = true WHERE id = $1", [.int(users[4])])
        let week = LeaderboardPeriod.containing(ms("2026-11-09T00:00:00Z"), kind: .week)
        // users[0]: +100 in the week (the Sunday-night bet counts, Monday's does not).
        try await Self.bet(f, user: users[0], market: market, at: "2026-11-09T00:00:00Z", status: "WON", stake: 100, win: 150)
        try await Self.bet(f, user: users[0], market: market, at: "2026-11-15T23:59:59.999Z", status: "WON", stake: 50, win: 100)
        try await Self.bet(f, user: users[0], market: market, at: "2026-11-16T00:00:00Z", status: "WON", stake: 10, win: 1_000)
        // users[1] and users[3] tie at +50; users[3] has more total wins. users[2] ties users[1] on both: lower id first.
        try await Self.bet(f, user: users[1], market: market, at: "2026-11-10T10:00:00Z", status: "WON", stake: 50, win: 100)
        try await Self.bet(f, user: users[2], market: market, at: "2026-11-10T10:00:00Z", status: "WON", stake: 60, win: 110)
        try await Self.bet(f, user: users[3], market: market, at: "2026-11-11T10:00:00Z", status: "WON", stake: 50, win: 100)
        // users[4]: a loss and a pending bet: -30.
        try await Self.bet(f, user: users[4], market: market, at: "2026-11-12T10:00:00Z", status: "LOST", stake: 30, win: 60)
        try await Self.bet(f, user: users[4], market: market, at: "2026-11-12T11:00:00Z", status: "PENDING", stake: 70, win: 140)
        try await Self.bet(f, user: users[4], market: market, at: "2026-11-08T23:59:59Z", status: "WON", stake: 10, win: 5_000)
        try await f.db.query(
            "INSERT INTO leaderboard_reward_tiers (kind, rank_from, rank_to, amount) VALUES ('WEEK', 1, 1, 1000), ('WEEK', 2, 3, 500), ('WEEK', 5, 9, 10), ('MONTH', 1, 100, 7)"
        )

        let close = LeaderboardClose(period: .week, startsAtMillis: week.startsAt)
        async let a: Void = f.run(LeaderboardClose.kind, close)
        async let b: Void = f.run(LeaderboardClose.kind, close)
        _ = try await (a, b)
        try await f.run(LeaderboardClose.kind, close)

        let snapshot = try await f.db.query(
            "SELECT rank, user_id, profit, bets FROM leaderboard_snapshots ORDER BY rank")
        #expect(
            snapshot.rows.map { $0[1].flatMap { Int64($0) } } == [users[0], users[3], users[1], users[2], users[4]].map { Optional($0) })
        #expect(snapshot.rows.map { $0[2] ?? "" } == ["100", "50", "50", "50", "-30"])
        #expect(snapshot.rows.map { $0[3] ?? "" } == ["2", "1", "1", "1", "2"])
        let rewards = try await f.db.query(
            "SELECT user_id, amount FROM transactions WHERE type = 'LEADERBOARD' ORDER BY amount DESC, user_id")
        #expect(
            rewards.rows.map { [$0[0] ?? "", $0[1] ?? ""] }
                == [["\(users[0])", "1000"], ["\(users[1])", "500"], ["\(users[3])", "500"], ["\(users[4])", "10"]])
        #expect(try await f.int("SELECT balance FROM users WHERE id = $1", [.int(users[0])]) == 11_000)
        #expect(try await f.int("SELECT count(*) FROM leaderboard_periods WHERE closed_at IS NOT NULL") == 1)
        // The unreachable user is paid but not written to.
        let messages = try await f.take(TelegramSend.resultsKind)
        #expect(messages.map(\.telegramID).sorted() == [1, 2, 4])
        #expect(messages.contains { $0.text == "🏆 You finished #1 on the weekly leaderboard (WEEK 2026-11-09): +1000 PRED." })
        #expect(try await f.int("SELECT count(*) FROM job_outbox") == 0)
        try await f.drop()
    }

    @Test("a period that has not ended, or a start that is not a period's, is refused and changes nothing")
    func refusals() async throws {
        let f = try await DomainFixture.make()
        let before = try await f.fingerprint()
        let current = LeaderboardPeriod.containing(SystemJobClock().nowMillis(), kind: .month)
        #expect(
            try await f.rejection(LeaderboardClose.kind, LeaderboardClose(period: .month, startsAtMillis: current.startsAt))
                == "\(current) has not ended yet: it ends \(LeaderboardPeriod.utcDay(current.endsAt)) 00:00 UTC")
        #expect(
            try await f.failure(LeaderboardClose.kind, LeaderboardClose(period: .week, startsAtMillis: ms("2026-11-24T00:00:00Z")))
                == "starts_at_ms \(ms("2026-11-24T00:00:00Z")) is not the start of a WEEK period")
        #expect(try await f.fingerprint() == before)
        // Without a start, the last period that ended is closed, even with no bets in it.
        try await f.run(LeaderboardClose.kind, LeaderboardClose(period: .month))
        let last = LeaderboardPeriod.lastEnded(before: SystemJobClock().nowMillis(), kind: .month)
        #expect(
            try await f.int(
                "SELECT count(*) FROM leaderboard_periods WHERE kind = 'MONTH' AND starts_at = to_timestamp($1::bigint / 1000.0) AND closed_at IS NOT NULL",
                [.int(last.startsAt)]) == 1)
        try await f.drop()
    }

    @Test("a close that comes a little before the period ends by PostgreSQL's clock waits for the end, not a dead letter")
    func earlyClose() async throws {
        let f = try await DomainFixture.make()
        // A scheduler whose clock is past the end of this week while PostgreSQL's is not: the
        // payload names the last period that ended by the scheduler's clock, this week.
        let week = LeaderboardPeriod.containing(SystemJobClock().nowMillis(), kind: .week)
        let ahead = JobClient(driver: f.driver, clock: ManualJobClock(millis: week.endsAt + 5))
        let handler = LeaderboardCloseHandler(db: f.db, defaultTop: 10, waitLimit: .seconds(8 * 86_400))
        do {
            try await handler.handle(LeaderboardClose(period: .week), f.context(LeaderboardClose.kind, client: ahead))
            Issue.record("closed a period that has not ended")
        } catch let failure as JobFailure {
            let delay = try #require(failure.snoozeDelay, "\(failure)")
            let left = Duration.milliseconds(week.endsAt - SystemJobClock().nowMillis())
            #expect(delay >= left && delay < left + .seconds(2), "the time left by the database's clock, and a little")
        }
        #expect(try await f.int("SELECT count(*) FROM leaderboard_periods WHERE closed_at IS NOT NULL") == 0)
        try await f.drop()
    }

    @Test("starts_at_ms at Int64's bounds or outside 1970...9999 is a permanent failure, not a trap")
    func outOfRangeStarts() async throws {
        let f = try await DomainFixture.make()
        for start in [Int64.min, Int64.max, -86_400_000, 253_402_300_800_000] {
            for kind in LeaderboardPeriod.Kind.allCases {
                #expect(
                    try await f.failure(LeaderboardClose.kind, LeaderboardClose(period: kind, startsAtMillis: start))
                        == "starts_at_ms \(start) is outside 1970-01-01 to 9999-12-01")
            }
        }
        try await f.drop()
    }
}
