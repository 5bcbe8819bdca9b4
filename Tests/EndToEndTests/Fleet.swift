import Foundation

/// The processes a test started, killed by a `defer` whatever way the test ends: a failed
/// `#require` must not leave a worker behind to load the machine for the next tests.
final class Fleet: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [Process] = []

    func add(_ p: Process) -> Process {
        lock.withLock { processes.append(p) }
        return p
    }

    func killAll() {
        for p in lock.withLock({ processes }) where p.isRunning { kill(p.processIdentifier, SIGKILL) }
    }
}
