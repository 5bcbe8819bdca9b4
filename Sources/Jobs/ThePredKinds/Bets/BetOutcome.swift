import Jobs

/// YES or NO: the side of a bet, or the result of a market.
public enum BetOutcome: String, Codable, Sendable, CaseIterable {
    case yes = "YES"
    case no = "NO"
}
