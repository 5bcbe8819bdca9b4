import Synchronization

/// The in-process limiter: the same algorithm as the Redis one, for tests and single processes.
public final class MemoryRateLimiter: SendRateLimiter {
    private struct State {
        var nextFree: [String: ContinuousClock.Instant] = [:]
        var pausedUntil: ContinuousClock.Instant?
        /// Per shared lane and class ("lane/class"): a weighted class's virtual time, any class's
        /// last request, and the priority class's next free time.
        var virtual: [String: Double] = [:]
        var seen: [String: ContinuousClock.Instant] = [:]
        var classNext: [String: ContinuousClock.Instant] = [:]
        /// Per shared lane: whether the priority class took its last slot.
        var lastWasPriority: [String: Bool] = [:]
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    public init() {}

    public func reserve(_ lanes: [RateLane], horizon: Duration, share: RateShare?) async throws -> RateReservation {
        let now = clock.now
        return state.withLock { state in
            if let until = state.pausedUntil, until > now { return RateReservation(granted: false, wait: until - now) }
            var slot = now
            for lane in lanes { if let free = state.nextFree[lane.name], free > slot { slot = free } }
            guard let share, let shared = lanes.first(where: { $0.name == share.lane }) else {
                if slot - now > horizon { return RateReservation(granted: false, wait: slot - now) }
                for lane in lanes { state.nextFree[lane.name] = slot + lane.spacing }
                return RateReservation(granted: true, wait: slot - now)
            }
            // The same steps as the rate-reserve-shared script (RedisRateLimiter).
            func key(_ name: String) -> String { share.lane + "/" + name }
            let weight = share.weights[share.className]
            var limit = horizon
            // Held up by its own chat or group lane, a weighted class is not waiting for the shared
            // lane: refused before it counts as active, so it cannot hold the others back. Held up
            // by the shared lane itself, it is waiting for it, and counts.
            var own = now
            for lane in lanes where lane.name != share.lane { if let free = state.nextFree[lane.name], free > own { own = free } }
            if weight != nil, own - now > min(horizon, share.ahead) { return RateReservation(granted: false, wait: slot - now) }
            var wasActive = false
            if weight != nil {
                wasActive = state.seen[key(share.className)].map { now - $0 <= share.activeWindow } ?? false
                state.seen[key(share.className)] = now
            }
            let active = share.weights.keys.filter { state.seen[key($0)].map { now - $0 <= share.activeWindow } ?? false }
            let lowest = active.map { state.virtual[key($0)] ?? 0 }.min()
            let others = active.filter { $0 != share.className }.map { state.virtual[key($0)] ?? 0 }.min()
            var v = 0.0
            if weight != nil {
                limit = min(horizon, share.ahead)
                // Behind a slot the priority class took (it may book up to twice `ahead`), a weighted
                // class may book the next one, so a priority backlog cannot keep it out for good.
                if state.lastWasPriority[share.lane] == true { limit = min(horizon, share.ahead * 2 + shared.spacing) }
                v = state.virtual[key(share.className)] ?? 0
                // Coming back after a pause, a class starts level with the others; one that kept asking keeps its place.
                // The lift is saved at once: a refusal below must not leave it active at its old v.
                if !wasActive, let others, others > v {
                    v = others
                    state.virtual[key(share.className)] = v
                }
                if let others, v > others {
                    // Not its turn: the others catch up at their share of the lane; asked again within
                    // half the active window, so the class keeps counting as active.
                    let total = Double(active.compactMap { share.weights[$0] }.reduce(0, +))
                    let wait = max(shared.spacing, shared.spacing * ((v - others) * total))
                    return RateReservation(granted: false, wait: min(share.activeWindow / 2, wait))
                }
            } else {
                // While a weighted class waits, priority holds slots at most twice `ahead` away: the
                // weighted classes hold the lane up to `ahead`, so its next slot can be that far off.
                if lowest != nil { limit = min(horizon, share.ahead * 2) }
                if let next = state.classNext[key(share.className)], next > slot { slot = next }
            }
            if slot - now > limit { return RateReservation(granted: false, wait: slot - now) }
            for lane in lanes { state.nextFree[lane.name] = slot + lane.spacing }
            state.lastWasPriority[share.lane] = weight == nil
            if let weight {
                state.virtual[key(share.className)] = v + 1 / Double(weight)
            } else {
                state.classNext[key(share.className)] = slot + (lowest == nil ? shared.spacing : shared.spacing * (1 / share.priorityShare))
            }
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
