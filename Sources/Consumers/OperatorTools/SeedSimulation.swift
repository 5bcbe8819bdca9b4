import Game
import Postgres

/// Plays the bets in time order against users' balances and markets' pools, and settles resolved
/// markets when their time comes. Deterministic: the same world gives the same events every run.
struct SeedSimulation {
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
        balance = Array(repeating: Users.startingBalance, count: world.users)
        totalBets = Array(repeating: 0, count: world.users)
        wins = totalBets
        losses = totalBets
        streak = totalBets
        bestStreak = totalBets
        volume = Array(repeating: 0, count: world.users)
        yesPool = Array(repeating: 0, count: world.markets.count)
        noPool = yesPool
    }

    /// A bet of a resolved market, waiting for the market to settle.
    private struct Entry {
        var index: Int32
        var user: Int32
        var payout: Int64
    }

    /// What one run tracks besides the totals: the markets that take bets and the ones waiting
    /// to settle, and the users with PRED left.
    private struct Timeline {
        // Markets close to bets at their end date and settle at their resolution time.
        let closing: [Int]
        let settling: [Int]
        var nextClose = 0, nextSettle = 0
        var open: [Int]
        var openPosition: [Int]
        var unsettled: [[Entry]]
        // Users with PRED left; a broke user leaves, and comes back on a win.
        var solvent: [Int32]
        var solventPosition: [Int32]

        init(world: SeedWorld) {
            let markets = world.markets
            let resolved = markets.indices.filter { markets[$0].resolvedAt != nil }
            closing = resolved.sorted { (markets[$0].endDate, $0) < (markets[$1].endDate, $1) }
            settling = resolved.sorted { (markets[$0].resolvedAt!, $0) < (markets[$1].resolvedAt!, $1) }
            open = Array(markets.indices)
            openPosition = Array(markets.indices)
            unsettled = [[Entry]](repeating: [], count: markets.count)
            solvent = (0..<world.users).map { Int32($0) }
            solventPosition = (0..<world.users).map { Int32($0) }
        }

        /// The next market in `closing` stops taking bets.
        mutating func closeNext() {
            let m = closing[nextClose]
            let position = openPosition[m]
            let last = open.removeLast()
            if last != m {
                open[position] = last
                openPosition[last] = position
            }
            nextClose += 1
        }

        mutating func leave(_ user: Int) {
            let at = Int(solventPosition[user])
            let last = solvent.removeLast()
            if Int(last) != user {
                solvent[at] = last
                solventPosition[Int(last)] = Int32(at)
            }
            solventPosition[user] = -1
        }

        mutating func rejoin(_ user: Int32) {
            solventPosition[Int(user)] = Int32(solvent.count)
            solvent.append(user)
        }
    }

    mutating func run<Sink: SeedSink>(_ sink: inout Sink) throws {
        var rng = SplitMix64.stream(world.seed, 3)
        var timeline = Timeline(world: world)
        let tierWeight = world.tiers.reduce(0) { $0 + $1.users.count * $1.weight }
        let span = world.betsTo - world.betsFrom
        let step = max(1, span / Int64(max(1, world.bets)))

        for index in 0..<world.bets {
            // Spread evenly with a little jitter; never out of order.
            let at = world.betsFrom + Int64(index) * span / Int64(world.bets) + Int64(rng.below(Int(step)))
            try advance(&timeline, to: at, &sink)
            let user = try pickUser(&rng, tierWeight: tierWeight, solvent: timeline.solvent, placed: index)
            let market = pickMarket(&rng, open: timeline.open)
            try place(index, user: user, market: market, at: at, &rng, &timeline, &sink)
        }
        // Markets that resolve after the last bet.
        while timeline.nextSettle < timeline.settling.count {
            try settleNext(&timeline, &sink)
        }
    }

    /// Closes the markets that ended by `at` and settles the ones resolved by then.
    private mutating func advance<Sink: SeedSink>(_ timeline: inout Timeline, to at: Int64, _ sink: inout Sink) throws {
        let markets = world.markets
        while timeline.nextClose < timeline.closing.count, markets[timeline.closing[timeline.nextClose]].endDate <= at {
            timeline.closeNext()
        }
        while timeline.nextSettle < timeline.settling.count, markets[timeline.settling[timeline.nextSettle]].resolvedAt! <= at {
            try settleNext(&timeline, &sink)
        }
    }

    /// Pays the bets of the next market in `settling`, at its resolution time.
    private mutating func settleNext<Sink: SeedSink>(_ timeline: inout Timeline, _ sink: inout Sink) throws {
        let market = timeline.settling[timeline.nextSettle]
        let at = world.markets[market].resolvedAt!
        for entry in timeline.unsettled[market] {
            let user = Int(entry.user)
            if entry.payout > 0 {
                if balance[user] == 0 { timeline.rejoin(entry.user) }
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
        timeline.unsettled[market] = []
        timeline.nextSettle += 1
    }

    /// Who: an active tier more often; a broke user is replaced by anyone with PRED left.
    private func pickUser(_ rng: inout SplitMix64, tierWeight: Int, solvent: [Int32], placed: Int) throws -> Int {
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
                    "every user is out of PRED after \(Seeder.grouped(placed)) bets; seed more users or fewer bets")
            }
            user = Int(solvent[rng.below(solvent.count)])
        }
        return user
    }

    /// Where: an open market, hot ones more often (at least one market is always open).
    private func pickMarket(_ rng: inout SplitMix64, open: [Int]) -> Int {
        var market = open[rng.below(open.count)]
        var tries = 0
        while tries < 16, rng.below(100) >= world.markets[market].heat {
            market = open[rng.below(open.count)]
            tries += 1
        }
        return market
    }

    /// Draws the stake and the side, moves the money and the counters, and hands the bet to the sink.
    private mutating func place<Sink: SeedSink>(
        _ index: Int, user: Int, market: Int, at: Int64, _ rng: inout SplitMix64, _ timeline: inout Timeline, _ sink: inout Sink
    ) throws {
        let markets = world.markets
        // How much: mostly small round stakes, some high rollers. Players risk a quarter of
        // what they have at most, so few go broke, except now and then one goes all in.
        let size = rng.below(100)
        let wanted: Int64 =
            size < 62
            ? Int64(rng.int(in: 1...20)) * 5
            : size < 93
                ? Int64(rng.int(in: 2...19)) * 50
                : Int64(rng.int(in: 2...10)) * 500
        let cap = rng.chance(perMille: 20) ? balance[user] : max(5, balance[user] / 4)
        let stake = min(wanted, cap, balance[user])

        var yes = rng.below(1000) < markets[market].yesPerMille
        // The seeded pools hold at most every user's 10,000 PRED, so the odds always fit.
        func oddsFor(_ yes: Bool) -> Int64 {
            Odds.hundredths(
                totalPool: yesPool[market] + noPool[market], outcomePool: yes ? yesPool[market] : noPool[market], stake: stake) ?? .max
        }
        var odds = oddsFor(yes)
        // Nobody backs a side the market has left empty at a thousandfold; they join the crowd.
        if odds > 100_000 {
            yes.toggle()
            odds = oddsFor(yes)
        }
        let potentialWin = Odds.potentialWin(stake: stake, hundredths: odds) ?? .max

        balance[user] -= stake
        if balance[user] == 0 { timeline.leave(user) }
        totalBets[user] += 1
        volume[user] += stake
        if yes { yesPool[market] += stake } else { noPool[market] += stake }

        var status = SeedBetStatus.pending
        var resolvedAt: Int64 = 0
        if let settledAt = markets[market].resolvedAt {
            let win = yes == markets[market].resultYes
            status = win ? .won : .lost
            resolvedAt = settledAt
            timeline.unsettled[market].append(Entry(index: Int32(index), user: Int32(user), payout: win ? potentialWin : 0))
            if win { won += 1 } else { lost += 1 }
        } else {
            pending += 1
        }
        try sink.placed(
            SimulatedBet(
                index: index, user: user, market: market, yes: yes, stake: stake, odds: odds,
                potentialWin: potentialWin, at: at, status: status, resolvedAt: resolvedAt))
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
