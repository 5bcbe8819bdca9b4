import Synchronization

/// The last readiness check and when it ran, kept for a second: `/readyz` of the front and of the
/// metrics listener ping their store at most once a second however often they are asked.
public final class Readiness: Sendable {
    private let last = Mutex<(at: Int64, ready: Bool)?>(nil)

    public init() {}

    /// The answer of a check less than a second old, if there is one.
    public func known(at now: Int64) -> Bool? {
        last.withLock { last in
            guard let last, now >= last.at, now - last.at < 1000 else { return nil }
            return last.ready
        }
    }

    public func record(_ ready: Bool, at now: Int64) { last.withLock { $0 = (now, ready) } }
}
