/// Receives a run's events in time order; a replay writes them as rows.
protocol SeedSink {
    mutating func placed(_ bet: SimulatedBet) throws
    mutating func settled(_ bet: SettledBet) throws
}
