/// For the first run, which keeps only the final state.
struct NoSink: SeedSink {
    func placed(_ bet: SimulatedBet) {}
    func settled(_ bet: SettledBet) {}
}
