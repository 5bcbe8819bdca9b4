import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Owns SIGTERM and SIGINT from the first line of a service command, not only once its
/// `ServiceGroup` runs: a signal that comes while the process still connects to Redis or
/// PostgreSQL would otherwise kill it (exit 143) instead of stopping it cleanly.
///
/// Before ``hand(to:)`` nothing has been fetched or accepted, so a signal exits 0 at once.
/// After it, a signal starts the group's graceful shutdown (a drain); a request that comes
/// before the group runs is remembered by the group.
final class ShutdownSignals: Sendable {
    private enum Phase {
        case starting
        case running(ServiceGroup)
    }

    private let phase = Mutex(Phase.starting)
    /// Kept so the sources live; set once in `init` and never touched again.
    nonisolated(unsafe) private let sources: [any DispatchSourceSignal]

    init(logger: Logger) {
        let queue = DispatchQueue(label: "thepred.shutdown-signals")
        let names = [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")]
        sources = names.map { number, _ in
            // The default action would end the process; the dispatch source takes the signal instead.
            signal(number, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: number, queue: queue)
        }
        for (source, (_, name)) in zip(sources, names) {
            // The process keeps this object to its end, so the strong capture costs nothing.
            source.setEventHandler { self.received(name, logger: logger) }
            source.resume()
        }
    }

    private func received(_ name: String, logger: Logger) {
        let group: ServiceGroup? = phase.withLock { phase in
            if case .running(let group) = phase { return group }
            return nil
        }
        guard let group else {
            logger.notice("\(name) while starting: nothing runs yet, exiting")
            exit(0)
        }
        logger.notice("\(name): shutting down gracefully")
        Task { await group.triggerGracefulShutdown() }
    }

    /// From now on a signal drains `group` instead of exiting.
    func hand(to group: ServiceGroup) {
        phase.withLock { $0 = .running(group) }
    }
}
