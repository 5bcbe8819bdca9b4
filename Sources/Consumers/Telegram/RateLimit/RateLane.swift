/// One limit a send must respect: sends in this lane go out at least `spacing` apart.
///
/// Spacing, not a count per window, because evenly spaced sends never bunch: with a 30/s lane
/// every one-second window holds at most 30 of them, however the window is placed.
public struct RateLane: Sendable, Hashable, CustomStringConvertible {
    public let name: String
    public let spacing: Duration

    public init(_ name: String, spacing: Duration) {
        self.name = name
        self.spacing = spacing
    }

    /// `count` sends per `period`, spaced evenly. `headroom` widens the spacing a little (0.02 is
    /// 2%), so that the jitter between the grant and the arrival at the far end cannot push a
    /// window over the limit.
    public static func perPeriod(_ name: String, count: Int, period: Duration, headroom: Double = 0) -> RateLane {
        precondition(count > 0, "a lane needs a positive rate")
        return RateLane(name, spacing: period * ((1 + headroom) / Double(count)))
    }

    public var description: String { "\(name) every \(spacing)" }
}
