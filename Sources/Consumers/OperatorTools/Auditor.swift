import Foundation
import Game
import Postgres

/// Checks the money and counter invariants of the domain over the whole database, one set-based
/// query per check, so it stays fast at millions of bets.
///
/// All checks read one snapshot (a REPEATABLE READ, READ ONLY transaction), so jobs writing
/// meanwhile cannot produce a violation that is only a half-seen change.
///
/// ```swift
/// let report = try await Auditor().run(on: db)
/// if !report.isClean { for f in report.findings where f.violations > 0 { print(f.examples) } }
/// ```
public struct Auditor: Sendable {
    /// The invariants, in the order they run.
    public enum Check: String, CaseIterable, Sendable, Codable {
        /// Every user's balance is 10,000 plus the sum of their ledger rows.
        case balances
        /// A market's YES and NO pools are the stakes of its bets on each side, and the pool their sum.
        case marketPools
        /// Every bet has its BET row; WON bets exactly one WIN of the potential win, REFUNDED bets
        /// exactly one REFUND of the stake, others neither; no bet-keyed row without its bet.
        case betPayouts
        /// Each completed mission is paid once, at its reward; nothing else is paid as a mission.
        case missionRewards
        /// At most one leaderboard reward per period and user, and only for a closed period.
        case leaderboardRewards
        /// total_bets, total_wins and total_losses count the user's bets; no balance is negative.
        case userCounters

        public var number: Int { Self.allCases.firstIndex(of: self)! + 1 }

        public var title: String {
            switch self {
            case .balances: "balance = \(Seeder.grouped(Int(Users.startingBalance))) + ledger"
            case .marketPools: "market pools = stakes of its bets"
            case .betPayouts: "each bet debited once, paid at most once, as its status says"
            case .missionRewards: "each completed mission rewarded exactly once"
            case .leaderboardRewards: "leaderboard rewards once per period and user, closed periods only"
            case .userCounters: "user counters match their bets; balances >= 0"
            }
        }
    }

    /// The outcome of one check.
    public struct Finding: Sendable, Codable {
        public let check: Check
        public let number: Int
        public let title: String
        /// How many violations the check found.
        public let violations: Int
        /// The first violations, one line each, at most ``Auditor/exampleLimit``.
        public let examples: [String]
    }

    public struct Report: Sendable, Codable {
        public let findings: [Finding]
        public let users: Int
        public let bets: Int
        public let seconds: Double
        public var violations: Int { findings.reduce(0) { $0 + $1.violations } }
        public var isClean: Bool { violations == 0 }

        /// The finding of one check.
        public subscript(check: Check) -> Finding { findings.first { $0.check == check }! }

        enum CodingKeys: String, CodingKey { case findings = "checks", users, bets, seconds, violations, clean }

        public init(findings: [Finding], users: Int, bets: Int, seconds: Double) {
            self.findings = findings
            self.users = users
            self.bets = bets
            self.seconds = seconds
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                findings: try c.decode([Finding].self, forKey: .findings), users: try c.decode(Int.self, forKey: .users),
                bets: try c.decode(Int.self, forKey: .bets), seconds: try c.decode(Double.self, forKey: .seconds))
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(findings, forKey: .findings)
            try c.encode(users, forKey: .users)
            try c.encode(bets, forKey: .bets)
            try c.encode(seconds, forKey: .seconds)
            try c.encode(violations, forKey: .violations)
            try c.encode(isClean, forKey: .clean)
        }
    }

    /// Violations listed per check; the rest are only counted.
    public let exampleLimit: Int

    public init(exampleLimit: Int = 20) {
        self.exampleLimit = max(0, exampleLimit)
    }

    /// Runs every check. Violations are findings, not errors.
    ///
    /// - Throws: ``PostgresError`` when the database cannot be read (a missing table among them).
    public func run(on db: any PostgresClient) async throws -> Report {
        let limit = exampleLimit
        let started = ContinuousClock.now
        let (findings, users, bets) = try await db.transaction { tx in
            try tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            // The per-bet and per-user aggregates hash millions of rows; keep them in memory.
            try tx.query("SET LOCAL work_mem = '256MB'")
            let size = try tx.query("SELECT (SELECT count(*) FROM users) AS users, (SELECT count(*) FROM bets) AS bets")
            let findings = try Check.allCases.map { check in
                // One more than the limit would do to know there are more; count(*) OVER () says how many.
                let rows = try tx.query(
                    "SELECT detail, count(*) OVER () AS total FROM (\(Self.sql(check))) v ORDER BY part, key1, key2 LIMIT $1",
                    [.int(Int64(limit))])
                // LIMIT 0 returns no row to read the total from.
                let total =
                    limit > 0
                    ? Int(rows.rows.first?[1] ?? "0") ?? 0
                    : Int(try tx.query("SELECT count(*) AS n FROM (\(Self.sql(check))) v")[0, "n"] ?? "0") ?? 0
                return Finding(
                    check: check, number: check.number, title: check.title, violations: total,
                    examples: rows.rows.compactMap { $0[0] })
            }
            return (findings, Int(size[0, "users"] ?? "0") ?? 0, Int(size[0, "bets"] ?? "0") ?? 0)
        }
        return Report(findings: findings, users: users, bets: bets, seconds: Seeder.seconds(started.duration(to: .now)))
    }

    /// Each check's violations as rows (part, key1, key2, detail): `part` and the keys only order them.
    static func sql(_ check: Check) -> String {
        switch check {
        case .balances: balancesSQL
        case .marketPools: marketPoolsSQL
        case .betPayouts: betPayoutsSQL
        case .missionRewards: missionRewardsSQL
        case .leaderboardRewards: leaderboardRewardsSQL
        case .userCounters: userCountersSQL
        }
    }
}
