import Postgres

/// Writes each placed bet as a `bets` row.
struct BetRows: SeedSink {
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
