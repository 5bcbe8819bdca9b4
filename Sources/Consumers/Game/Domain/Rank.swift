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
