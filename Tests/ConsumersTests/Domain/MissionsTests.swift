@testable import Game
import Foundation
import Jobs
import TestSupport
import Testing
import ThePredKinds

@Suite("missions.progress", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct MissionsTests {
    /// Sends one fresh event for `user` and returns whether `kind` is complete, and how often it was paid.
    static func poke(_ f: DomainFixture, _ user: Int64, _ kind: MissionKind) async throws -> (done: Bool, paid: Int64) {
        try await f.run(MissionsProgress.kind, MissionsProgress(eventID: UUID().uuidString, event: .betSettled, userID: user))
        return try await state(f, user, kind)
    }

    static func state(_ f: DomainFixture, _ user: Int64, _ kind: MissionKind) async throws -> (done: Bool, paid: Int64) {
        let done = try await f.int(
            """
            SELECT count(*) FROM user_missions um JOIN missions m ON m.id = um.mission_id
             WHERE um.user_id = $1 AND m.kind = $2 AND um.completed_at IS NOT NULL
            """, [.int(user), .text(kind.rawValue)])
        let paid = try await f.int(
            """
            SELECT count(*) FROM transactions t JOIN missions m ON t.effect_key = 'mission:' || $1 || ':' || m.id
             WHERE m.kind = $2 AND t.type = 'MISSION' AND t.amount = m.reward
            """, [.int(user), .text(kind.rawValue)])
        return (done == 1, paid)
    }

    @Test(
        "missions counted from the user's figures complete exactly at their target, once",
        arguments: [
            (MissionKind.firstBet, "total_bets", Int64(1)), (.bets5, "total_bets", 5), (.bets10, "total_bets", 10),
            (.winStreak3, "best_streak", 3), (.winStreak5, "best_streak", 5), (.lucky7, "total_wins", 7),
            (.silverRank, "total_wins", 11), (.goldRank, "total_wins", 26), (.diamondRank, "total_wins", 51),
            (.grandmasterRank, "total_wins", 101), (.volume10K, "total_volume", 10_000), (.volume50K, "total_volume", 50_000),
            (.volume100K, "total_volume", 100_000),
        ])
    func figureMissions(kind: MissionKind, column: String, threshold: Int64) async throws {
        let f = try await DomainFixture.make()
        let user = try await f.user(telegramID: 77)
        // `column` is one of the literal names above, never input.
        try await f.db.query("UPDATE users SET \(column) = $2 WHERE id = $1", [.int(user), .int(threshold - 1)])
        #expect(try await Self.poke(f, user, kind) == (false, 0))
        try await f.db.query("UPDATE users SET \(column) = $2 WHERE id = $1", [.int(user), .int(threshold)])
        #expect(try await Self.poke(f, user, kind) == (true, 1))
        #expect(try await Self.poke(f, user, kind) == (true, 1))
        let reward = try await f.int("SELECT reward FROM missions WHERE kind = $1", [.text(kind.rawValue)])
        // The events were bet_settled: a settlement's mission messages go in the results class.
        #expect(try await f.take(TelegramSend.kind).isEmpty)
        let messages = try await f.take(TelegramSend.resultsKind).filter { $0.kind == .missionCompleted }
        #expect(messages.filter { $0.text.contains("+\(reward) PRED") }.count >= 1)
        #expect(messages.allSatisfy { $0.telegramID == 77 })
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test(
        "category and high-roller missions follow the bets placed",
        arguments: [
            (MissionKind.betCrypto, MarketCategory.crypto), (.betSports, .sports), (.betPolitics, .politics),
        ])
    func categoryMissions(kind: MissionKind, category: MarketCategory) async throws {
        let f = try await DomainFixture.make()
        let user = try await f.user(telegramID: 5)
        let other = try await f.market(category: category == .crypto ? .tech : .crypto)
        try await f.bet(5, on: other, .yes, stake: 999)
        try await f.runMissionEvents()
        #expect(try await Self.state(f, user, kind) == (false, 0))
        #expect(try await Self.state(f, user, .highRoller) == (false, 0))
        try await f.bet(5, on: try await f.market(category: category), .no, stake: 1_000)
        try await f.runMissionEvents()
        #expect(try await Self.state(f, user, kind) == (true, 1))
        #expect(try await Self.state(f, user, .highRoller) == (true, 1))
        #expect(try await Self.state(f, user, .firstBet) == (true, 1))
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("a mission a bet completes is sent in the interactive class")
    func betPlacedIsInteractive() async throws {
        let f = try await DomainFixture.make()
        try await f.user(telegramID: 8)
        try await f.bet(8, on: try await f.market(), .yes, stake: 10)
        try await f.runMissionEvents()
        let texts = try await f.take(TelegramSend.kind).map(\.text)
        #expect(texts.contains("✅ Mission <b>First bet</b> completed: +500 PRED."), "\(texts)")
        #expect(try await f.take(TelegramSend.resultsKind).isEmpty)
        try await f.drop()
    }

    @Test("DAILY_ACTIVE needs 7 distinct days; a replayed event id changes nothing")
    func dailyActive() async throws {
        let f = try await DomainFixture.make()
        for day in 1...6 {
            try await f.run(
                MissionsProgress.kind,
                MissionsProgress(
                    eventID: "daily:9:\(day)", event: .dailyActivity, telegramID: 9, day: String(format: "2026-11-%02d", day)))
        }
        // The same day twice under another event id is still one day.
        try await f.run(MissionsProgress.kind, MissionsProgress(eventID: "again", event: .dailyActivity, telegramID: 9, day: "2026-11-06"))
        let user = try await f.int("SELECT id FROM users WHERE telegram_id = 9")
        #expect(try await Self.state(f, user, .dailyActive) == (false, 0))
        let seventh = MissionsProgress(eventID: "daily:9:7", event: .dailyActivity, telegramID: 9, day: "2026-11-07")
        try await f.run(MissionsProgress.kind, seventh)
        #expect(try await Self.state(f, user, .dailyActive) == (true, 1))
        let before = try await f.fingerprint()
        try await f.run(MissionsProgress.kind, seventh)
        #expect(try await f.fingerprint() == before)
        #expect(try await f.take(TelegramSend.kind).map(\.text) == ["✅ Mission <b>Daily active</b> completed: +1500 PRED."])
        #expect(
            try await f.failure(
                MissionsProgress.kind, MissionsProgress(eventID: "x", event: .dailyActivity, telegramID: 9, day: "2026-02-30"))
                == "day must be a date YYYY-MM-DD, got 2026-02-30")
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("REFERRAL completes when a friend claims the code, once; bad claims change nothing")
    func referral() async throws {
        let f = try await DomainFixture.make()
        try await f.run(MissionsProgress.kind, MissionsProgress(eventID: "d", event: .dailyActivity, telegramID: 100))
        let referrer = try await f.int("SELECT id FROM users WHERE telegram_id = 100")
        let code = try #require(try await f.string("SELECT referral_code FROM users WHERE id = $1", [.int(referrer)]))
        let before = try await f.fingerprint()
        #expect(try await f.rejection(ReferralsClaim.kind, ReferralsClaim(telegramID: 200, code: "nope")) == "unknown referral code")
        #expect(try await f.rejection(ReferralsClaim.kind, ReferralsClaim(telegramID: 100, code: code)) == "a user cannot refer themselves")
        #expect(try await f.fingerprint() == before)

        let claim = JobID.generate(millis: 3)
        try await f.run(ReferralsClaim.kind, ReferralsClaim(telegramID: 200, code: code), id: claim)
        try await f.run(ReferralsClaim.kind, ReferralsClaim(telegramID: 200, code: code), id: claim, deliveries: 2)
        try await f.runMissionEvents()
        #expect(try await Self.state(f, referrer, .referral) == (true, 1))
        try await f.run(MissionsProgress.kind, MissionsProgress(eventID: "d2", event: .dailyActivity, telegramID: 300))
        let third = try #require(try await f.string("SELECT referral_code FROM users WHERE telegram_id = 300"))
        #expect(
            try await f.rejection(ReferralsClaim.kind, ReferralsClaim(telegramID: 200, code: third))
                == "user was already referred by someone else")
        try await f.expectLedgerConsistent()
        try await f.drop()
    }

    @Test("a mission an admin turned off does not advance")
    func inactive() async throws {
        let f = try await DomainFixture.make()
        let user = try await f.user(telegramID: 1)
        try await f.db.query("UPDATE missions SET active = false WHERE kind = 'FIRST_BET'")
        try await f.db.query("UPDATE users SET total_bets = 3 WHERE id = $1", [.int(user)])
        #expect(try await Self.poke(f, user, .firstBet) == (false, 0))
        try await f.drop()
    }
}
