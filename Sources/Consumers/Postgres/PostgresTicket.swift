import CLibpq
import Foundation
import Synchronization

/// One call on a connection's thread, which the calling task can cancel.
///
/// A job's timeout cancels its task, and the retry must not overlap a statement still running for
/// the first run. So cancelling a call that is still queued drops it (it never reaches the server)
/// and resumes the caller at once; cancelling a call that is running sends PostgreSQL a cancel
/// request for it (PQcancel), and the caller resumes once the server has stopped it.
///
/// PQcancel connects to the server and waits for it: against a PostgreSQL that is paused or
/// blackholed it blocks for as long as that lasts. So it runs on a thread of its own, never on the
/// canceller's (a cooperative-pool thread: two such cancels would stop every task of the process).
final class PostgresTicket<T: Sendable>: Sendable {
    private enum Phase { case queued, running, finished }

    private struct State {
        var phase = Phase.queued
        var continuation: CheckedContinuation<T, any Error>?
        var cancelRequested = false
        /// The running connection's cancel handle; set while running.
        var cancel: PostgresCancelHandle?
        /// A cancel request is on its way to the server, on its own thread.
        var cancelling = false
    }

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
    func connected(cancel handle: PostgresCancelHandle?) -> Bool {
        state.withLock { s in
            s.cancel = handle
            return !s.cancelRequested
        }
    }

    /// On the connection's thread, once the work is done. A failure after a cancel request is the
    /// cancel's doing (or moot), so the caller sees CancellationError, as for any cancelled task.
    /// Returns false when a cancel request was still on its way after 10 s (a paused server): the
    /// connection must not be used again.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, cancelled) = state.withLock { s in
            // Under the lock: a concurrent `cancel` either marked its request before this point (and
            // it is waited for below) or sees `finished` and sends nothing.
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
        // A cancel request still on its way must land before the connection's next call starts,
        // or it would stop that one. This is the connection's own thread, so the wait blocks no task.
        let giveUp = ContinuousClock.now + .seconds(10)
        while state.withLock({ $0.cancelling }) {
            if ContinuousClock.now > giveUp { return false }
            usleep(1000)
        }
        return true
    }

    /// From the task's cancellation handler, on any thread.
    func cancel() {
        let (dropped, send) = state.withLock { s -> (CheckedContinuation<T, any Error>?, PostgresCancelHandle?) in
            let first = !s.cancelRequested
            s.cancelRequested = true
            switch s.phase {
            case .queued:
                defer { s.continuation = nil }
                return (s.continuation, nil)
            case .running:
                // Marked under the lock: `finish` then waits for this request before the
                // connection moves on, and a call that already finished sends none.
                guard first, let handle = s.cancel else { return (nil, nil) }
                s.cancelling = true
                return (nil, handle)
            case .finished:
                return (nil, nil)
            }
        }
        dropped?.resume(throwing: CancellationError())
        if let send {
            Thread.detachNewThread { [self] in
                var buffer = [CChar](repeating: 0, count: 256)
                _ = PQcancel(send.pointer, &buffer, Int32(buffer.count))
                state.withLock { $0.cancelling = false }
            }
        }
    }
}
