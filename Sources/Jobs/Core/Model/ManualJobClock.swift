import Foundation
import Synchronization

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
