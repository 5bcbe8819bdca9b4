import Foundation
import Jobs
import Postgres

/// Fills a migrated database with realistic, self-consistent game data: users, markets, bets and
/// their ledger rows, fast enough for a million bets in seconds.
///
/// The data obeys every invariant ``Auditor`` checks. Bets are simulated in time order: each stake
/// comes out of the user's balance at that moment, odds follow the pools as they grow, and the
/// resolved markets are settled at their resolution time, so balances, counters, streaks and ranks
/// are what the real system would have produced. The same seed on an empty database, with the same
/// ``Configuration/now``, gives identical rows.
///
/// Everything happens in one transaction that holds the four tables in EXCLUSIVE mode (readers go
/// on; writers wait), takes its ids after the largest ones present, and moves the sequences past
/// them, so seeding appends to live data. Rows travel by COPY, generated while they stream: the
/// simulation runs three times from the same seed (once for the final user and market state, once
/// for the bets, once for the ledger) and keeps only per-user and per-market state in memory.
///
/// ```swift
/// let report = try await Seeder(.init(users: 1_000, markets: 20, bets: 50_000, seed: 7)).run(on: db)
/// ```
public struct Seeder: Sendable {
    /// What to create.
    public struct Configuration: Sendable {
        public var users: Int
        public var markets: Int
        public var bets: Int
        public var seed: UInt64
        /// The share of markets that are already resolved, with their bets settled. With one
        /// market there is none, and at least one market always stays Active to take bets.
        public var resolvedFraction: Double
        /// Every timestamp is placed relative to this instant (seconds since 1970): bets in the 60
        /// days before it, resolved markets before it, active ones ending after it.
        public var now: Int64

        /// - Parameter now: defaults to 00:00 UTC today, so runs on the same day match.
        public init(users: Int, markets: Int, bets: Int, seed: UInt64 = 1, resolvedFraction: Double = 0.25, now: Int64? = nil) {
            self.users = users
            self.markets = markets
            self.bets = bets
            self.seed = seed
            self.resolvedFraction = resolvedFraction
            self.now = now ?? Int64(Date().timeIntervalSince1970) / 86_400 * 86_400
        }

        /// How many markets are resolved: about `resolvedFraction`, at least one when the fraction
        /// is positive and there are two or more markets, never all of them.
        public var resolvedMarkets: Int {
            guard markets >= 2, resolvedFraction > 0 else { return 0 }
            return min(markets - 1, max(1, Int((Double(markets) * resolvedFraction).rounded())))
        }

        func validate() throws {
            guard (1...10_000_000).contains(users) else { throw SeederError("users must be within 1...10,000,000") }
            guard (1...1_000_000).contains(markets) else { throw SeederError("markets must be within 1...1,000,000") }
            guard (0...100_000_000).contains(bets) else { throw SeederError("bets must be within 0...100,000,000") }
            guard (0...1).contains(resolvedFraction) else { throw SeederError("the resolved fraction must be within 0...1") }
        }
    }

    /// What a run created.
    public struct Report: Sendable {
        public let users: Int
        public let markets: Int
        public let bets: Int
        public let ledgerRows: Int
        /// Ids of the new users, in order.
        public let userIDs: ClosedRange<Int64>
        /// Ids of the new markets, in order; ``activeMarketIDs`` and ``resolvedMarketIDs`` split them.
        public let marketIDs: [Int64]
        public let activeMarketIDs: [Int64]
        public let resolvedMarketIDs: [Int64]
        /// Ids of the new bets, nil when none were asked for.
        public let betIDs: ClosedRange<Int64>?
        public let pendingBets: Int
        public let wonBets: Int
        public let lostBets: Int
        /// Wall time of the whole run, including the final ANALYZE.
        public internal(set) var seconds: Double

        /// Rows written to all four tables.
        public var rows: Int { users + markets + bets + ledgerRows }
        public var rowsPerSecond: Double { seconds > 0 ? Double(rows) / seconds : 0 }
    }

    public let configuration: Configuration

    /// - Throws: ``SeederError`` when a count is out of range.
    public init(_ configuration: Configuration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Seeds the database `db` points at, which must be migrated (`thepred migrate`).
    ///
    /// - Parameter progress: receives a line per phase and per fifth of each pass. It is called on
    ///   the connection's thread.
    /// - Throws: ``SeederError`` when the schema is missing or the users run out of PRED, and
    ///   ``PostgresError`` from the database. Nothing is written then.
    public func run(on db: PostgresConnection, progress: @escaping @Sendable (String) -> Void = { _ in }) async throws -> Report {
        let configuration = configuration
        let started = ContinuousClock.now
        var report = try await db.transaction { tx in try SeedRun(configuration: configuration, tx: tx, progress: progress).execute() }
        let analyze = ContinuousClock.now
        // Fresh statistics, so the queries that follow (audit, settlement) plan for the new sizes.
        try await db.query("ANALYZE users, markets, bets, transactions")
        progress("analyzed in \(Self.format(seconds: analyze.duration(to: .now)))")
        report.seconds = Self.seconds(started.duration(to: .now))
        return report
    }

    /// A count with thousands separators, 1,000,000.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    static func seconds(_ d: Duration) -> Double { d.inSeconds }

    static func format(seconds d: Duration) -> String { String(format: "%.2f s", seconds(d)) }
}
