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
            if tier < 5 {
                whales.append(Int32(i))
            } else if tier < 50 {
                heavy.append(Int32(i))
            } else if tier < 300 {
                regular.append(Int32(i))
            } else {
                casual.append(Int32(i))
            }
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
