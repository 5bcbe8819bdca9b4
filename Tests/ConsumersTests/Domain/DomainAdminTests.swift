import Jobs
import OperatorTools
import TestSupport
import Testing

@Suite("Domain admin and pool", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct DomainAdminTests {
    @Test("reward tiers: set, replace, refuse an overlap, delete")
    func tiers() async throws {
        let f = try await DomainFixture.make()
        let admin = DomainAdmin(db: f.db)
        _ = try await admin.setTier(period: .week, ranks: 1...1, amount: 1_000)
        _ = try await admin.setTier(period: .week, ranks: 2...10, amount: 100)
        _ = try await admin.setTier(period: .month, ranks: 1...5, amount: 5_000)
        _ = try await admin.setTier(period: .week, ranks: 2...5, amount: 200)  // replaces 2-10
        let overlap = await #expect(throws: JobsError.self) { try await admin.setTier(period: .week, ranks: 5...8, amount: 1) }
        #expect(overlap?.message == "ranks 5-8 overlap the WEEK tier 2-5")
        #expect(try await admin.tiers(period: .week).map { "\($0.rankFrom)-\($0.rankTo):\($0.amount)" } == ["1-1:1000", "2-5:200"])
        #expect(try await admin.deleteTier(period: .week, from: 2))
        #expect(try await !admin.deleteTier(period: .week, from: 2))
        #expect(try await admin.tiers().count == 2)
        try await f.drop()
    }

    @Test("missions: change target, reward and state; unknown kinds are refused")
    func missions() async throws {
        let f = try await DomainFixture.make()
        let admin = DomainAdmin(db: f.db)
        #expect(try await admin.missions().count == 19)
        let m = try await admin.setMission(kind: "LUCKY_7", target: nil, reward: 9_999, active: false)
        #expect(m.kind == "LUCKY_7" && m.target == 7 && m.reward == 9_999 && !m.active)
        await #expect(throws: JobsError.self) { try await admin.setMission(kind: "NOPE", target: 1, reward: nil, active: nil) }
        try await f.drop()
    }

    @Test("the pool spreads work over its connections and survives a connection killed by the server")
    func pool() async throws {
        let f = try await DomainFixture.make()
        // Three sleeps at once on three connections take about one sleep, not three.
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await f.db.query("SELECT pg_sleep(0.3)") } }
            try await group.waitForAll()
        }
        #expect(ContinuousClock.now - start < .milliseconds(850))
        try await f.fresh.admin.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", [.text(f.fresh.name)])
        for _ in 0..<6 { _ = try? await f.db.query("SELECT 1") }  // each connection notices once
        #expect(try await f.int("SELECT 40 + 2") == 42)
        try await f.drop()
    }
}
