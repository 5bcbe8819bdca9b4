import Foundation
import Synchronization

/// The time source of a queue driver, in milliseconds since the epoch.
///
/// Drivers take it as a value so tests can move time by hand.
public protocol JobClock: Sendable {
    func nowMillis() -> Int64
}

/// Wall-clock time.
public struct SystemJobClock: JobClock {
    public init() {}
    public func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that only moves when told to.
public final class ManualJobClock: JobClock {
    private let now: Mutex<Int64>

    public init(millis: Int64 = 1_700_000_000_000) { now = Mutex(millis) }

    public func nowMillis() -> Int64 { now.withLock { $0 } }

    public func advance(by duration: Duration) {
        now.withLock { $0 += duration.milliseconds }
    }

    public func set(millis: Int64) { now.withLock { $0 = millis } }
}
