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
