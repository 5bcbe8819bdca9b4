import Foundation
import Game
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

/// Why seeding refused to start or stopped; nothing was written.
public struct SeederError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ message: String) { description = message }
}

// MARK: - One run, inside the transaction

/// The ids already taken, so new rows go after them.
struct SeedOffsets: Sendable {
    var user: Int64 = 0
    var market: Int64 = 0
    var bet: Int64 = 0
    var ledger: Int64 = 0
    var telegramID: Int64 = 0
}

private struct SeedRun {
    let configuration: Seeder.Configuration
    let tx: PostgresConnection.Transaction
    let progress: @Sendable (String) -> Void

    static let columns: [(table: String, columns: [String])] = [
        ("users", ["id", "telegram_id", "username", "balance", "total_bets", "total_wins", "total_losses", "win_streak",
                   "best_streak", "total_volume", "rank", "referral_code", "banned", "created_at"]),
        ("markets", ["id", "title", "description", "category", "end_date", "status", "result", "total_yes_bets",
                     "total_no_bets", "total_pool", "promoted", "created_at", "resolved_at", "resolution",
                     "resolution_started_at"]),
        ("bets", ["id", "user_id", "market_id", "outcome", "stake", "odds_hundredths", "potential_win", "status", "job_id",
                  "created_at", "resolved_at"]),
        ("transactions", ["id", "user_id", "type", "amount", "effect_key", "created_at"]),
    ]

    static func copySQL(_ table: String) -> String {
        let list = columns.first { $0.table == table }!.columns.joined(separator: ", ")
        return "COPY \(table) (\(list)) FROM STDIN"
    }

    func execute() throws -> Seeder.Report {
        try checkSchema()
        // EXCLUSIVE lets readers on and keeps every writer out until commit, so the ids taken
        // below stay free and no concurrent bet moves a balance the simulation is based on.
        try tx.query("LOCK TABLE users, markets, bets, transactions IN EXCLUSIVE MODE")
        let row = try tx.query("""
            SELECT (SELECT coalesce(max(id), 0) FROM users) AS users,
                   (SELECT coalesce(max(telegram_id), 0) FROM users) AS telegram,
                   (SELECT coalesce(max(id), 0) FROM markets) AS markets,
                   (SELECT coalesce(max(id), 0) FROM bets) AS bets,
                   (SELECT coalesce(max(id), 0) FROM transactions) AS ledger
            """)
        func int(_ column: String) -> Int64 { Int64(row[0, column] ?? "") ?? 0 }
        let offsets = SeedOffsets(
            user: int("users"), market: int("markets"), bet: int("bets"), ledger: int("ledger"), telegramID: int("telegram"))
        progress("ids start after users \(offsets.user), markets \(offsets.market), bets \(offsets.bet), ledger \(offsets.ledger)")

        var clock = ContinuousClock.now
        func lap() -> String {
            let now = ContinuousClock.now
            defer { clock = now }
            return Seeder.format(seconds: clock.duration(to: now))
        }

        let world = SeedWorld(configuration: configuration, offsets: offsets)
        var outcome = SeedSimulation(world: world)
        var none = NoSink()
        try outcome.run(&none)
        progress("simulated \(Seeder.grouped(world.bets)) bets in \(lap()): \(Seeder.grouped(outcome.won)) won, "
            + "\(Seeder.grouped(outcome.lost)) lost, \(Seeder.grouped(outcome.pending)) pending")

        try tx.copy(Self.copySQL("users")) { w in try outcome.writeUsers(&w) }
        progress("users: \(Seeder.grouped(world.users)) rows in \(lap())")
        try tx.copy(Self.copySQL("markets")) { w in try outcome.writeMarkets(&w) }
        progress("markets: \(Seeder.grouped(world.markets.count)) rows in \(lap())")

        let every = max(1, world.bets / 5)
        var replay = SeedSimulation(world: world)
        try tx.copy(Self.copySQL("bets")) { w in
            var sink = BetRows(writer: w, offsets: offsets, total: world.bets, every: every, progress: progress)
            try replay.run(&sink)
            w = sink.writer
        }
        try outcome.expectSameOutcome(as: replay)
        progress("bets: \(Seeder.grouped(world.bets)) rows in \(lap())")

        replay = SeedSimulation(world: world)
        let ledgerRows = try tx.copy(Self.copySQL("transactions")) { w in
            var sink = LedgerRows(writer: w, offsets: offsets, total: world.bets, every: every, progress: progress)
            try replay.run(&sink)
            w = sink.writer
        }
        try outcome.expectSameOutcome(as: replay)
        progress("ledger: \(Seeder.grouped(ledgerRows)) rows in \(lap())")

        // Past the largest id, never backwards, so the application's next insert gets a fresh id.
        let written = [("users", world.users), ("markets", world.markets.count), ("bets", world.bets), ("transactions", ledgerRows)]
        for (table, rows) in written where rows > 0 {
            try tx.query("""
                SELECT setval(s, greatest((SELECT max(id) FROM \(table)), coalesce(pg_sequence_last_value(s), 1)))
                FROM (SELECT pg_get_serial_sequence('\(table)', 'id')::regclass AS s) seq
                """)
        }

        let marketIDs = (0..<world.markets.count).map { offsets.market + Int64($0) + 1 }
        return Seeder.Report(
            users: world.users, markets: world.markets.count, bets: world.bets, ledgerRows: ledgerRows,
            userIDs: offsets.user + 1 ... offsets.user + Int64(world.users),
            marketIDs: marketIDs,
            activeMarketIDs: marketIDs.indices.filter { world.markets[$0].resolvedAt == nil }.map { marketIDs[$0] },
            resolvedMarketIDs: marketIDs.indices.filter { world.markets[$0].resolvedAt != nil }.map { marketIDs[$0] },
            betIDs: world.bets > 0 ? offsets.bet + 1 ... offsets.bet + Int64(world.bets) : nil,
            pendingBets: outcome.pending, wonBets: outcome.won, lostBets: outcome.lost, seconds: 0)
    }

    /// Refuses an unmigrated database with one clear line instead of a COPY error.
    private func checkSchema() throws {
        let wanted = Self.columns.flatMap { t in t.columns.map { "('\(t.table)', '\($0)')" } }.joined(separator: ", ")
        let missing = try tx.query("""
            SELECT w.t, w.c, to_regclass(w.t) IS NULL AS no_table FROM (VALUES \(wanted)) AS w (t, c)
            WHERE NOT EXISTS (
                SELECT 1 FROM information_schema.columns c
                WHERE c.table_schema = current_schema() AND c.table_name = w.t AND c.column_name = w.c)
            """).rows
        guard missing.isEmpty else {
            var tables: [String] = [], columns: [String] = []
            for row in missing {
                if row[2] == "t" {
                    if !tables.contains(row[0] ?? "") { tables.append(row[0] ?? "") }
                } else {
                    columns.append("\(row[0] ?? "").\(row[1] ?? "")")
                }
            }
            let what = [
                tables.isEmpty ? nil : "no table " + tables.joined(separator: ", "),
                columns.isEmpty ? nil : "no column " + columns.joined(separator: ", "),
            ].compactMap { $0 }.joined(separator: "; ")
            throw SeederError("the database is not migrated (\(what)); run `thepred migrate` first")
        }
    }
}

// MARK: - The world: who and what exists before the first bet

/// Users and markets as drawn from the seed, before any bet. Shared by every replay.
struct SeedWorld: Sendable {
    struct Market: Sendable {
        let category: String
        let title: String
        let description: String
        let createdAt: Int64
        let endDate: Int64
        /// Set for resolved markets: settled at this time, after the end date and every bet.
        let resolvedAt: Int64?
        let resultYes: Bool
        /// How often a bet picks YES, per mille; a resolved market's result leans the same way.
        let yesPerMille: Int
        /// How popular the market is, 1...100: a bet lands on it in proportion.
        let heat: Int
        let promoted: Bool
    }

    static let day: Int64 = 86_400

    let seed: UInt64
    let offsets: SeedOffsets
    let now: Int64
    let users: Int
    let userCreatedAt: [Int64]
    let telegramIDs: [Int64]
    let banned: [Bool]
    /// Users by activity, each tier with the weight of one of its users: a few whales, some heavy
    /// bettors and regulars, many casual players.
    let tiers: [(users: [Int32], weight: Int)]
    let markets: [Market]
    let bets: Int
    /// Bets are placed in [betsFrom, betsTo).
    let betsFrom: Int64
    let betsTo: Int64

    init(configuration: Seeder.Configuration, offsets: SeedOffsets) {
        seed = configuration.seed
        self.offsets = offsets
        now = configuration.now
        users = configuration.users
        bets = configuration.bets
        betsFrom = now - 60 * Self.day
        betsTo = now - 60

        var rng = SplitMix64.stream(seed, 1)
        // Users joined 90 to 61 days ago, in id order, before any bet.
        let joinFrom = now - 90 * Self.day
        let joinStep = max(1, 29 * Self.day / Int64(users))
        var created: [Int64] = [], telegram: [Int64] = [], banned: [Bool] = []
        var whales: [Int32] = [], heavy: [Int32] = [], regular: [Int32] = [], casual: [Int32] = []
        created.reserveCapacity(users); telegram.reserveCapacity(users); banned.reserveCapacity(users)
        // Telegram ids look scattered but stay unique: each user draws within a slot of its own.
        let telegramBase = max(offsets.telegramID, 100_000_000)
        for i in 0..<users {
            created.append(joinFrom + Int64(i) * joinStep + Int64(rng.below(Int(joinStep))))
            telegram.append(telegramBase + Int64(i) * 8 + 1 + Int64(rng.below(8)))
            banned.append(rng.chance(perMille: 5))
            let tier = rng.below(1000)
            if tier < 5 { whales.append(Int32(i)) } else if tier < 50 { heavy.append(Int32(i)) }
            else if tier < 300 { regular.append(Int32(i)) } else { casual.append(Int32(i)) }
        }
        userCreatedAt = created
        telegramIDs = telegram
        self.banned = banned
        // 0.5% whales place about a fifth of all bets, and climb the ranks; most players bet rarely.
        tiers = [(whales, 200), (heavy, 40), (regular, 8), (casual, 1)]

        var marketRNG = SplitMix64.stream(seed, 2)
        let resolvedCount = configuration.resolvedMarkets
        // Which markets are resolved is drawn too, so they are spread among the ids.
        var resolved = [Bool](repeating: false, count: configuration.markets)
        for i in 0..<resolvedCount { resolved[i] = true }
        for i in stride(from: resolved.count - 1, to: 0, by: -1) { resolved.swapAt(i, marketRNG.below(i + 1)) }
        markets = resolved.map { MarketText.draw(resolved: $0, now: configuration.now, rng: &marketRNG) }
    }
}

/// Market titles and descriptions in the style of the game, with their dates and odds lean.
enum MarketText {
    static let categories = ["Crypto", "Sports", "Politics", "Tech"]
    static let coins: [(String, ClosedRange<Int>, Int)] = [
        ("BTC", 60...140, 1_000), ("ETH", 20...60, 100), ("SOL", 16...80, 5), ("TON", 2...12, 1), ("BNB", 40...90, 10),
    ]
    static let teams = [
        "Real Madrid", "Barcelona", "Arsenal", "Liverpool", "Bayern", "PSG", "Inter", "Juventus", "Zenit", "Galatasaray",
        "Lakers", "Celtics", "Warriors", "Knicks",
    ]
    static let countries = ["Germany", "France", "Brazil", "Japan", "Canada", "Italy", "Spain", "Poland", "India", "Mexico"]
    static let bills = ["AI safety", "crypto tax", "data privacy", "housing", "energy price cap", "digital ID"]
    static let companies = ["Apple", "Google", "OpenAI", "Telegram", "Tesla", "Nvidia", "Microsoft", "Samsung", "Meta"]
    static let launches = [
        "a foldable phone", "a new flagship AI model", "AR glasses", "a robotaxi service", "a 2nm chip",
        "a paid subscription tier", "its own blockchain wallet",
    ]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func draw(resolved: Bool, now: Int64, rng: inout SplitMix64) -> SeedWorld.Market {
        let day = SeedWorld.day
        let createdAt = now - 75 * day + Int64(rng.below(Int(14 * day)))
        // Whole hours, as an admin would set them. Resolved ones ended between 58 days and a day
        // ago, inside the betting window; active ones end within the next 90 days.
        let endDate = resolved
            ? (now - 58 * day + Int64(rng.below(Int(57 * day)))) / 3600 * 3600
            : (now + day + Int64(rng.below(Int(89 * day)))) / 3600 * 3600
        let resolvedAt = resolved ? endDate + 300 + Int64(rng.below(7200)) : nil
        let yesPerMille = rng.int(in: 150...850)
        let resultYes = rng.below(1000) < yesPerMille
        let heat = rng.chance(perMille: 100) ? 100 : rng.int(in: 5...40)
        let promoted = rng.chance(perMille: 50)
        let category = categories[rng.below(categories.count)]
        let date = format(date: endDate)
        let title: String, description: String
        switch category {
        case "Crypto":
            let (coin, range, step) = coins[rng.below(coins.count)]
            let price = grouped(rng.int(in: range) * step)
            if rng.chance(perMille: 600) {
                title = "Will \(coin) close above $\(price) by \(date)?"
                description = "Resolves YES if the \(coin)/USD daily close on Binance is above $\(price) on or before \(date) (UTC)."
            } else {
                title = "Will \(coin) trade below $\(price) on \(date)?"
                description = "Resolves YES if \(coin)/USD trades below $\(price) at any time on \(date) (UTC), per CoinGecko."
            }
        case "Sports":
            let home = teams[rng.below(teams.count)]
            var away = teams[rng.below(teams.count)]
            if away == home { away = teams[(teams.firstIndex(of: home)! + 1) % teams.count] }
            title = rng.chance(perMille: 700) ? "Will \(home) beat \(away) on \(date)?" : "Will \(home) and \(away) draw on \(date)?"
            description = "Regular time only. Resolves NO if the match is postponed past \(date)."
        case "Politics":
            let country = countries[rng.below(countries.count)]
            if rng.chance(perMille: 500) {
                title = "Will \(country) hold a snap election before \(date)?"
                description = "Resolves YES if a national election is officially called before \(date)."
            } else {
                let bill = bills[rng.below(bills.count)]
                title = "Will \(country) pass the \(bill) bill by \(date)?"
                description = "Resolves YES if the bill passes its final parliamentary vote by \(date)."
            }
        default:
            let company = companies[rng.below(companies.count)]
            let launch = launches[rng.below(launches.count)]
            title = "Will \(company) launch \(launch) by \(date)?"
            description = "Resolves YES on an official announcement with a release date before \(date)."
        }
        return SeedWorld.Market(
            category: category, title: title, description: description, createdAt: createdAt, endDate: endDate,
            resolvedAt: resolvedAt, resultYes: resultYes, yesPerMille: yesPerMille, heat: heat, promoted: promoted)
    }

    /// "Mar 14, 2025"
    static func format(date seconds: Int64) -> String {
        let (y, m, d) = CivilDate.date(fromDays: seconds / SeedWorld.day)
        return "\(months[Int(m) - 1]) \(d), \(y)"
    }

    static func grouped(_ n: Int) -> String { Seeder.grouped(n) }
}

// MARK: - The simulation

enum SeedBetStatus { case pending, won, lost }

/// One placed bet, as the simulation decided it.
struct SimulatedBet {
    var index: Int
    var user: Int
    var market: Int
    var yes: Bool
    var stake: Int64
    var odds: Int64
    var potentialWin: Int64
    var at: Int64
    var status: SeedBetStatus
    var resolvedAt: Int64
}

/// One bet of a resolved market, settled at `at`; `payout` 0 means lost.
struct SettledBet {
    var index: Int
    var user: Int
    var payout: Int64
    var at: Int64
}

protocol SeedSink {
    mutating func placed(_ bet: SimulatedBet) throws
    mutating func settled(_ bet: SettledBet) throws
}

struct NoSink: SeedSink {
    func placed(_ bet: SimulatedBet) {}
    func settled(_ bet: SettledBet) {}
}

/// Plays the bets in time order against users' balances and markets' pools, and settles resolved
/// markets when their time comes. Deterministic: the same world gives the same events every run.
struct SeedSimulation {
    static let startingBalance: Int64 = 10_000

    let world: SeedWorld
    private(set) var balance: [Int64]
    private(set) var totalBets: [Int32]
    private(set) var wins: [Int32]
    private(set) var losses: [Int32]
    private(set) var streak: [Int32]
    private(set) var bestStreak: [Int32]
    private(set) var volume: [Int64]
    private(set) var yesPool: [Int64]
    private(set) var noPool: [Int64]
    private(set) var won = 0
    private(set) var lost = 0
    private(set) var pending = 0

    init(world: SeedWorld) {
        self.world = world
        balance = Array(repeating: Self.startingBalance, count: world.users)
        totalBets = Array(repeating: 0, count: world.users)
        wins = totalBets
        losses = totalBets
        streak = totalBets
        bestStreak = totalBets
        volume = Array(repeating: 0, count: world.users)
        yesPool = Array(repeating: 0, count: world.markets.count)
        noPool = yesPool
    }

    private struct Entry {
        var index: Int32
        var user: Int32
        var payout: Int64
    }

    mutating func run<Sink: SeedSink>(_ sink: inout Sink) throws {
        let markets = world.markets
        var rng = SplitMix64.stream(world.seed, 3)

        // Markets close to bets at their end date and settle at their resolution time.
        let resolved = markets.indices.filter { markets[$0].resolvedAt != nil }
        let closing = resolved.sorted { (markets[$0].endDate, $0) < (markets[$1].endDate, $1) }
        let settling = resolved.sorted { (markets[$0].resolvedAt!, $0) < (markets[$1].resolvedAt!, $1) }
        var nextClose = 0, nextSettle = 0
        var open = Array(markets.indices)
        var openPosition = Array(markets.indices)
        var unsettled = [[Entry]](repeating: [], count: markets.count)

        // Users with PRED left; a broke user leaves, and comes back on a win.
        var solvent = (0..<world.users).map { Int32($0) }
        var solventPosition = (0..<world.users).map { Int32($0) }
        func leave(_ user: Int) {
            let at = Int(solventPosition[user])
            let last = solvent.removeLast()
            if Int(last) != user {
                solvent[at] = last
                solventPosition[Int(last)] = Int32(at)
            }
            solventPosition[user] = -1
        }

        func settle(_ market: Int) throws {
            let at = markets[market].resolvedAt!
            for entry in unsettled[market] {
                let user = Int(entry.user)
                if entry.payout > 0 {
                    if balance[user] == 0 {
                        solventPosition[user] = Int32(solvent.count)
                        solvent.append(entry.user)
                    }
                    balance[user] += entry.payout
                    wins[user] += 1
                    streak[user] += 1
                    bestStreak[user] = max(bestStreak[user], streak[user])
                } else {
                    losses[user] += 1
                    streak[user] = 0
                }
                try sink.settled(SettledBet(index: Int(entry.index), user: user, payout: entry.payout, at: at))
            }
            unsettled[market] = []
        }

        let tierWeight = world.tiers.reduce(0) { $0 + $1.users.count * $1.weight }
        let span = world.betsTo - world.betsFrom
        let step = max(1, span / Int64(max(1, world.bets)))

        for index in 0..<world.bets {
            // Spread evenly with a little jitter; never out of order.
            let at = world.betsFrom + Int64(index) * span / Int64(world.bets) + Int64(rng.below(Int(step)))
            while nextClose < closing.count, markets[closing[nextClose]].endDate <= at {
                let m = closing[nextClose]
                let position = openPosition[m]
                let last = open.removeLast()
                if last != m {
                    open[position] = last
                    openPosition[last] = position
                }
                nextClose += 1
            }
            while nextSettle < settling.count, markets[settling[nextSettle]].resolvedAt! <= at {
                try settle(settling[nextSettle])
                nextSettle += 1
            }

            // Who: an active tier more often; a broke user is replaced by anyone with PRED left.
            var user = -1
            var pick = rng.below(tierWeight)
            for tier in world.tiers {
                let weight = tier.users.count * tier.weight
                if pick < weight {
                    user = Int(tier.users[rng.below(tier.users.count)])
                    break
                }
                pick -= weight
            }
            if balance[user] == 0 {
                guard !solvent.isEmpty else {
                    throw SeederError(
                        "every user is out of PRED after \(Seeder.grouped(index)) bets; seed more users or fewer bets")
                }
                user = Int(solvent[rng.below(solvent.count)])
            }

            // Where: an open market, hot ones more often (at least one market is always open).
            var market = open[rng.below(open.count)]
            var tries = 0
            while tries < 16, rng.below(100) >= markets[market].heat {
                market = open[rng.below(open.count)]
                tries += 1
            }

            // How much: mostly small round stakes, some high rollers. Players risk a quarter of
            // what they have at most, so few go broke, except now and then one goes all in.
            let size = rng.below(100)
            let wanted: Int64 = size < 62 ? Int64(rng.int(in: 1...20)) * 5
                : size < 93 ? Int64(rng.int(in: 2...19)) * 50
                : Int64(rng.int(in: 2...10)) * 500
            let cap = rng.chance(perMille: 20) ? balance[user] : max(5, balance[user] / 4)
            let stake = min(wanted, cap, balance[user])

            var yes = rng.below(1000) < markets[market].yesPerMille
            var odds = Odds.hundredths(totalPool: yesPool[market] + noPool[market], outcomePool: yes ? yesPool[market] : noPool[market], stake: stake)
            // Nobody backs a side the market has left empty at a thousandfold; they join the crowd.
            if odds > 100_000 {
                yes.toggle()
                odds = Odds.hundredths(totalPool: yesPool[market] + noPool[market], outcomePool: yes ? yesPool[market] : noPool[market], stake: stake)
            }
            let potentialWin = Odds.potentialWin(stake: stake, hundredths: odds)

            balance[user] -= stake
            if balance[user] == 0 { leave(user) }
            totalBets[user] += 1
            volume[user] += stake
            if yes { yesPool[market] += stake } else { noPool[market] += stake }

            var status = SeedBetStatus.pending
            var resolvedAt: Int64 = 0
            if let settledAt = markets[market].resolvedAt {
                let win = yes == markets[market].resultYes
                status = win ? .won : .lost
                resolvedAt = settledAt
                unsettled[market].append(Entry(index: Int32(index), user: Int32(user), payout: win ? potentialWin : 0))
                if win { won += 1 } else { lost += 1 }
            } else {
                pending += 1
            }
            try sink.placed(SimulatedBet(
                index: index, user: user, market: market, yes: yes, stake: stake, odds: odds,
                potentialWin: potentialWin, at: at, status: status, resolvedAt: resolvedAt))
        }
        // Markets that resolve after the last bet.
        while nextSettle < settling.count {
            try settle(settling[nextSettle])
            nextSettle += 1
        }
    }

    /// A replay must end where the first run did; anything else is a bug that would write rows
    /// inconsistent with the users and markets already copied.
    func expectSameOutcome(as other: SeedSimulation) throws {
        guard balance == other.balance, wins == other.wins, yesPool == other.yesPool, noPool == other.noPool else {
            throw SeederError("internal error: a replay of the simulation diverged; nothing was written")
        }
    }

    func writeUsers(_ w: inout PostgresCopyWriter) throws {
        let base = world.offsets.user
        for i in 0..<world.users {
            let id = base + Int64(i) + 1
            w.add(id)
            w.add(world.telegramIDs[i])
            w.add("user\(id)")
            w.add(balance[i])
            w.add(Int64(totalBets[i]))
            w.add(Int64(wins[i]))
            w.add(Int64(losses[i]))
            w.add(Int64(streak[i]))
            w.add(Int64(bestStreak[i]))
            w.add(volume[i])
            w.add(Rank(totalWins: Int64(wins[i])).rawValue)
            w.add("R" + String(id, radix: 36, uppercase: true))
            w.add(world.banned[i])
            w.addTimestamp(epochSeconds: world.userCreatedAt[i])
            try w.endRow()
        }
    }

    func writeMarkets(_ w: inout PostgresCopyWriter) throws {
        for (i, m) in world.markets.enumerated() {
            let result: String? = m.resolvedAt == nil ? nil : (m.resultYes ? "YES" : "NO")
            w.add(world.offsets.market + Int64(i) + 1)
            w.add(m.title)
            w.add(m.description)
            w.add(m.category)
            w.addTimestamp(epochSeconds: m.endDate)
            w.add(m.resolvedAt == nil ? "Active" : "Resolved")
            w.add(result)
            w.add(yesPool[i])
            w.add(noPool[i])
            w.add(yesPool[i] + noPool[i])
            w.add(m.promoted)
            w.addTimestamp(epochSeconds: m.createdAt)
            if let at = m.resolvedAt { w.addTimestamp(epochSeconds: at) } else { w.addNull() }
            w.add(result)
            if let at = m.resolvedAt { w.addTimestamp(epochSeconds: at) } else { w.addNull() }
            try w.endRow()
        }
    }
}

// MARK: - Rows as the simulation replays

/// Writes each placed bet as a `bets` row.
private struct BetRows: SeedSink {
    var writer: PostgresCopyWriter
    let offsets: SeedOffsets
    let total: Int
    let every: Int
    let progress: @Sendable (String) -> Void

    mutating func placed(_ bet: SimulatedBet) throws {
        let id = offsets.bet + Int64(bet.index) + 1
        writer.add(id)
        writer.add(offsets.user + Int64(bet.user) + 1)
        writer.add(offsets.market + Int64(bet.market) + 1)
        writer.add(bet.yes ? "YES" : "NO")
        writer.add(bet.stake)
        writer.add(bet.odds)
        writer.add(bet.potentialWin)
        switch bet.status {
        case .pending: writer.add("PENDING")
        case .won: writer.add("WON")
        case .lost: writer.add("LOST")
        }
        // The job id of a bet the seeder placed: unique, and never one a real bets.place job has.
        writer.add("seed:\(id)")
        writer.addTimestamp(epochSeconds: bet.at)
        if bet.status == .pending { writer.addNull() } else { writer.addTimestamp(epochSeconds: bet.resolvedAt) }
        try writer.endRow()
        if (bet.index + 1) % every == 0 { progress("bets: \(Seeder.grouped(bet.index + 1)) of \(Seeder.grouped(total))") }
    }

    func settled(_ bet: SettledBet) {}
}

/// Writes the ledger in time order: a BET row as each bet is placed, a WIN row as it is settled.
private struct LedgerRows: SeedSink {
    var writer: PostgresCopyWriter
    let offsets: SeedOffsets
    let total: Int
    let every: Int
    let progress: @Sendable (String) -> Void
    private var next: Int64

    init(writer: PostgresCopyWriter, offsets: SeedOffsets, total: Int, every: Int, progress: @escaping @Sendable (String) -> Void) {
        self.writer = writer
        self.offsets = offsets
        self.total = total
        self.every = every
        self.progress = progress
        next = offsets.ledger
    }

    mutating func placed(_ bet: SimulatedBet) throws {
        try row(bet: bet.index, user: bet.user, type: "BET", amount: -bet.stake, at: bet.at)
        if (bet.index + 1) % every == 0 { progress("ledger: \(Seeder.grouped(bet.index + 1)) of \(Seeder.grouped(total)) bets") }
    }

    mutating func settled(_ bet: SettledBet) throws {
        guard bet.payout > 0 else { return }  // a loss moves no money
        try row(bet: bet.index, user: bet.user, type: "WIN", amount: bet.payout, at: bet.at)
    }

    private mutating func row(bet: Int, user: Int, type: String, amount: Int64, at: Int64) throws {
        next += 1
        writer.add(next)
        writer.add(offsets.user + Int64(user) + 1)
        writer.add(type)
        writer.add(amount)
        writer.add("bet:\(offsets.bet + Int64(bet) + 1):\(type)")
        writer.addTimestamp(epochSeconds: at)
        try writer.endRow()
    }
}
