/// Makes the game's process-wide figures at start, so they read 0 before their first event instead
/// of being absent (a rate or an alert over an absent series says nothing).
public enum GameMetrics {
    public static func register() {
        _ = (SettlementMetrics.betsSettled, SettlementMetrics.running, SettlementMetrics.duration)
        TelegramMetrics.register()
    }
}
