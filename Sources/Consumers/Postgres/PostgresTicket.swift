import CLibpq
import Synchronization

/// One call on a connection's thread, which the calling task can cancel.
///
/// A job's timeout cancels its task, and the retry must not overlap a statement still running for
/// the first run. So cancelling a call that is still queued drops it (it never reaches the server)
/// and resumes the caller at once; cancelling a call that is running sends PostgreSQL a cancel
/// request for it (PQcancel), and the caller resumes once the server has stopped it.
final class PostgresTicket<T: Sendable>: Sendable {
    private enum Phase { case queued, running, finished }

    private struct State {
        var phase = Phase.queued
        var continuation: CheckedContinuation<T, any Error>?
        var cancelRequested = false
        /// The running connection's cancel handle, owned by the connection; set while running.
        var cancel: CancelHandle?
    }

    /// libpq's PGcancel, which is safe to use from any thread.
    struct CancelHandle: @unchecked Sendable { let pointer: OpaquePointer }

    private let state = Mutex(State())

    /// Whether the caller asked to stop; a transaction checks it between statements.
    var cancelRequested: Bool { state.withLock { $0.cancelRequested } }

    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { s -> Bool in
            if s.cancelRequested { return true }
            s.continuation = continuation
            return false
        }
        if early { continuation.resume(throwing: CancellationError()) }
    }

    /// On the connection's thread: false when the call was cancelled while queued, and must not run.
    func start() -> Bool {
        state.withLock { s in
            guard s.phase == .queued, s.continuation != nil, !s.cancelRequested else { return false }
            s.phase = .running
            return true
        }
    }

    /// On the connection's thread, once connected: from now on a cancel reaches the server.
    /// False when a cancel came in the meantime; then the work must not start.
    func connected(cancel handle: OpaquePointer?) -> Bool {
        let handle = handle.map(CancelHandle.init)
        return state.withLock { s in
            s.cancel = handle
            return !s.cancelRequested
        }
    }

    /// On the connection's thread, once the work is done. A failure after a cancel request is the
    /// cancel's doing (or moot), so the caller sees CancellationError, as for any cancelled task.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, cancelled) = state.withLock { s in
            // Under the lock: a concurrent `cancel` either ran PQcancel before this point or sees
            // `finished` and sends nothing, so a cancel never reaches the connection's next call.
            s.phase = .finished
            s.cancel = nil
            defer { s.continuation = nil }
            return (s.continuation, s.cancelRequested)
        }
        if cancelled, case .failure = result {
            continuation?.resume(throwing: CancellationError())
        } else {
            continuation?.resume(with: result)
        }
    }

    /// From the task's cancellation handler, on any thread.
    func cancel() {
        let dropped = state.withLock { s -> CheckedContinuation<T, any Error>? in
            s.cancelRequested = true
            switch s.phase {
            case .queued:
                defer { s.continuation = nil }
                return s.continuation
            case .running:
                // PQcancel returns once the postmaster has signalled the backend. It is safe from
                // any thread; the handle stays valid while the call runs (freed only on reconnect,
                // which happens between calls).
                if let handle = s.cancel {
                    var buffer = [CChar](repeating: 0, count: 256)
                    _ = PQcancel(handle.pointer, &buffer, Int32(buffer.count))
                }
                return nil
            case .finished:
                return nil
            }
        }
        dropped?.resume(throwing: CancellationError())
    }
}
