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
