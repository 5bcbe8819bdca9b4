import Synchronization

/// The last readiness check and when it ran, kept for a second: `/readyz` of the front and of the
/// metrics listener ping their store at most once a second however often they are asked, and at
/// most one ping is in flight: while Redis is slow to answer, the requests that come meanwhile
/// wait for that ping instead of each sending one of their own (issue 26, finding 9).
public final class Readiness: Sendable {
    private struct State {
        var last: (at: Int64, ready: Bool)?
        var inFlight: Task<Bool, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// The answer of a check less than a second old, or of the check in flight, or of a new one
    /// made with `probe`.
    public func check(at now: Int64, _ probe: @escaping @Sendable () async -> Bool) async -> Bool {
        enum Step {
            case known(Bool)
            case wait(Task<Bool, Never>)
        }
        let step = state.withLock { s -> Step in
            if let last = s.last, now >= last.at, now - last.at < 1000 { return .known(last.ready) }
            if let running = s.inFlight { return .wait(running) }
            // Unstructured, so a caller that goes away does not cancel the answer the others wait for.
            let task = Task { [self] in
                let ready = await probe()
                state.withLock {
                    $0.last = (now, ready)
                    $0.inFlight = nil
                }
                return ready
            }
            s.inFlight = task
            return .wait(task)
        }
        switch step {
        case .known(let ready): return ready
        case .wait(let task): return await task.value
        }
    }
}
