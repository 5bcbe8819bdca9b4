// The one conversion of `Duration` to plain numbers for this package. `package`, not `public`:
// it is not API, and a library should not add members to a standard type for its users.
extension Duration {
    /// Whole milliseconds, rounded toward zero; saturating, so a handler's absurd delay cannot trap.
    package var milliseconds: Int64 { whole(per: 1_000) }

    /// Whole microseconds, rounded toward zero; saturating.
    package var microseconds: Int64 { whole(per: 1_000_000) }

    /// Whole nanoseconds, rounded toward zero; saturating.
    package var nanoseconds: Int64 { whole(per: 1_000_000_000) }

    /// Seconds as a floating-point number, for rates and display.
    package var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    private func whole(per second: Int64) -> Int64 {
        let (seconds, attoseconds) = components
        let scaled = seconds.multipliedReportingOverflow(by: second)
        if scaled.overflow { return seconds < 0 ? .min : .max }
        let sum = scaled.partialValue.addingReportingOverflow(attoseconds / (1_000_000_000_000_000_000 / second))
        return sum.overflow ? (seconds < 0 ? .min : .max) : sum.partialValue
    }
}
