import Postgres

/// Writes the ledger in time order: a BET row as each bet is placed, a WIN row as it is settled.
struct LedgerRows: SeedSink {
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
