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

/// What a reservation gave.
public struct RateReservation: Sendable, Equatable {
    /// True: a slot is held; send after `wait`. False: nothing is held (the fleet is paused or
    /// the slot is further off than the horizon); ask again after `wait`.
    public let granted: Bool
    public let wait: Duration

    public init(granted: Bool, wait: Duration) {
        self.granted = granted
        self.wait = wait
    }
}

/// A rate limiter shared by every process that sends through the same account.
///
/// A reservation holds the earliest slot that every lane allows, so callers sleep until their own
/// slot instead of polling: N callers get N distinct slots.
public protocol SendRateLimiter: Sendable {
    /// Reserves a slot under all `lanes` at once, unless it is more than `horizon` away or the
    /// limiter is paused.
    func reserve(_ lanes: [RateLane], horizon: Duration) async throws -> RateReservation
    /// Holds every reservation for `duration` (Telegram's retry_after). Never shortens a pause.
    func pause(for duration: Duration) async throws
}

extension Duration {
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
