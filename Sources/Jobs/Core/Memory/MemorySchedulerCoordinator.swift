import Jobs
import Synchronization

/// Leader lock and tick records in process memory, for tests.
public final class MemorySchedulerCoordinator: SchedulerCoordinator {
    private let clock: any JobClock
    private let state = Mutex<(leader: String?, until: Int64, ticks: [String: Int64])>((nil, 0, [:]))

    public init(clock: any JobClock) { self.clock = clock }

    public func lead(holder: String, ttl: Duration) async throws -> Bool {
        let now = clock.nowMillis()
        return state.withLock { s in
            if s.leader == nil || s.leader == holder || s.until <= now {
                s.leader = holder
                s.until = now + ttl.milliseconds
                return true
            }
            return false
        }
    }

    public func resign(holder: String) async throws {
        state.withLock { s in if s.leader == holder { s.leader = nil } }
    }

    public func lastTick(of schedule: String) async throws -> Int64? { state.withLock { $0.ticks[schedule] } }

    public func recordTick(_ tick: Int64, of schedule: String) async throws {
        state.withLock { s in s.ticks[schedule] = max(tick, s.ticks[schedule] ?? .min) }
    }
}
