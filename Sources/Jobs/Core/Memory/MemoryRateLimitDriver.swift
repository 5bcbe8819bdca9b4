import Synchronization

/// Rate allowances in process memory, for tests and a single process; the same arithmetic as
/// the Redis limiter's script.
public final class MemoryRateLimitDriver: RateLimitDriver {
    private let clock: any JobClock
    /// Each subject's theoretical arrival time in microseconds: when its allowance is full again.
    private let arrivals = Mutex<[String: Int64]>([:])

    public init(clock: any JobClock = SystemJobClock()) { self.clock = clock }

    public func take(_ subject: String, rule: RateRule) async throws -> Duration? {
        let now = clock.nowMillis() * 1000
        let interval = rule.intervalMicros
        return arrivals.withLock { arrivals in
            // Subjects whose allowance is full again are the same as unknown ones: forget them, so
            // a flood of subjects does not grow the table without end.
            if arrivals.count > 10_000 { arrivals = arrivals.filter { $0.value > now } }
            let arrival = max(arrivals[subject] ?? now, now)
            let allowedAt = arrival + interval - Int64(rule.burst) * interval
            if now < allowedAt { return .microseconds(allowedAt - now) }
            arrivals[subject] = arrival + interval
            return nil
        }
    }
}
