/// A rate limiter shared by every process that sends through the same account.
///
/// A reservation holds the earliest slot that every lane allows, so callers sleep until their own
/// slot instead of polling: N callers get N distinct slots.
public protocol SendRateLimiter: Sendable {
    /// Reserves a slot under all `lanes` at once, unless it is more than `horizon` away or the
    /// limiter is paused.
    /// With a `share`, the slot also keeps the asking class's pace on the shared lane (`RateShare`).
    func reserve(_ lanes: [RateLane], horizon: Duration, share: RateShare?) async throws -> RateReservation
    /// Holds every reservation for `duration` (Telegram's retry_after). Never shortens a pause.
    func pause(for duration: Duration) async throws
}

extension SendRateLimiter {
    /// A reservation with no class: every caller alike.
    public func reserve(_ lanes: [RateLane], horizon: Duration) async throws -> RateReservation {
        try await reserve(lanes, horizon: horizon, share: nil)
    }
}
