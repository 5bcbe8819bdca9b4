import Metrics

/// Settlement progress: bets settled (a counter, so `rate()` is bets a second), settlements running
/// in this process, and each market's time to settle. No market label: ids are unbounded.
enum SettlementMetrics {
    static let betsSettled = Counter(label: "thepred_settlement_bets_total")
    static let running = Meter(label: "thepred_settlements_running")
    static let duration = Timer(label: "thepred_settlement_duration_seconds", preferredDisplayUnit: .seconds)
}
