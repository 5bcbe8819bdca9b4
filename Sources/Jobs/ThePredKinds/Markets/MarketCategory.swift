import Jobs

/// The category of a market.
public enum MarketCategory: String, Codable, Sendable, CaseIterable {
    case crypto = "Crypto", sports = "Sports", politics = "Politics", tech = "Tech"
}
