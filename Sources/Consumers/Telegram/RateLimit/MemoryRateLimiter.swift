import Synchronization

/// The in-process limiter: the same algorithm as the Redis one, for tests and single processes.
public final class MemoryRateLimiter: SendRateLimiter {
    private struct State {
        var nextFree: [String: ContinuousClock.Instant] = [:]
        var pausedUntil: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    public init() {}

    public func reserve(_ lanes: [RateLane], horizon: Duration) async throws -> RateReservation {
        let now = clock.now
        return state.withLock { state in
            if let until = state.pausedUntil, until > now { return RateReservation(granted: false, wait: until - now) }
            var slot = now
            for lane in lanes { if let free = state.nextFree[lane.name], free > slot { slot = free } }
            if slot - now > horizon { return RateReservation(granted: false, wait: slot - now) }
            for lane in lanes { state.nextFree[lane.name] = slot + lane.spacing }
            return RateReservation(granted: true, wait: slot - now)
        }
    }

    public func pause(for duration: Duration) async throws {
        let until = clock.now + duration
        state.withLock { state in
            if state.pausedUntil.map({ $0 < until }) ?? true { state.pausedUntil = until }
        }
    }
}
