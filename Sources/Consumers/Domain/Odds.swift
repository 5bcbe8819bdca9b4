/// Odds and payouts of domain.md, in whole numbers so no floating point touches money.
public enum Odds {
    /// (total_pool + stake) / (outcome_pool + stake) in hundredths, rounded half up; 200 (2.00)
    /// for an empty market. Pools 500/500, stake 100 on YES: 1100 / 600 = 1.8333 -> 183.
    public static func hundredths(totalPool: Int64, outcomePool: Int64, stake: Int64) -> Int64 {
        guard totalPool > 0 else { return 200 }
        let numerator = (totalPool + stake) * 100
        let denominator = outcomePool + stake
        return (2 * numerator + denominator) / (2 * denominator)
    }

    /// floor(stake * odds): 100 at 1.83 wins 183.
    public static func potentialWin(stake: Int64, hundredths: Int64) -> Int64 {
        stake * hundredths / 100
    }
}

/// Ranks by total wins: Bronze 0-10, Silver 11-25, Gold 26-50, Diamond 51-100, Grandmaster 101+.
public enum Rank: String, Sendable, CaseIterable, Comparable {
    case bronze = "Bronze", silver = "Silver", gold = "Gold", diamond = "Diamond", grandmaster = "Grandmaster"

    public init(totalWins: Int64) {
        switch totalWins {
        case 101...: self = .grandmaster
        case 51...: self = .diamond
        case 26...: self = .gold
        case 11...: self = .silver
        default: self = .bronze
        }
    }

    var order: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Rank, b: Rank) -> Bool { a.order < b.order }

    /// The same mapping as a SQL expression over an integer expression, for set-based updates.
    static func sql(_ wins: String) -> String {
        "(CASE WHEN \(wins) >= 101 THEN 'Grandmaster' WHEN \(wins) >= 51 THEN 'Diamond' WHEN \(wins) >= 26 THEN 'Gold'"
            + " WHEN \(wins) >= 11 THEN 'Silver' ELSE 'Bronze' END)"
    }
}
