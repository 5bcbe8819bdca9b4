/// Odds and payouts of domain.md, in whole numbers so no floating point touches money. Every step
/// is overflow-checked: pools and stakes come from PostgreSQL and from requests, and an overflow
/// would trap the worker. Nil means the figure does not fit in Int64.
public enum Odds {
    /// (total_pool + stake) / (outcome_pool + stake) in hundredths, rounded half up; 200 (2.00)
    /// for an empty market. Pools 500/500, stake 100 on YES: 1100 / 600 = 1.8333 -> 183.
    public static func hundredths(totalPool: Int64, outcomePool: Int64, stake: Int64) -> Int64? {
        guard totalPool > 0 else { return 200 }
        guard let total = checked(totalPool.addingReportingOverflow(stake)),
            let numerator = checked(total.multipliedReportingOverflow(by: 100)),
            let twiceNumerator = checked(numerator.multipliedReportingOverflow(by: 2)),
            let denominator = checked(outcomePool.addingReportingOverflow(stake)), denominator > 0,
            let twiceDenominator = checked(denominator.multipliedReportingOverflow(by: 2)),
            let rounded = checked(twiceNumerator.addingReportingOverflow(denominator))
        else { return nil }
        return rounded / twiceDenominator
    }

    /// floor(stake * odds): 100 at 1.83 wins 183.
    public static func potentialWin(stake: Int64, hundredths: Int64) -> Int64? {
        checked(stake.multipliedReportingOverflow(by: hundredths)).map { $0 / 100 }
    }

    private static func checked(_ result: (partialValue: Int64, overflow: Bool)) -> Int64? {
        result.overflow ? nil : result.partialValue
    }
}
