import ArgumentParser
import Jobs
import Logging
import Synchronization

/// `--log-format`: text (swift-log's stream handler) or JSON lines.
enum LogFormat: String, ExpressibleByArgument, CaseIterable {
    case text, json

    private static let bootstrapped = Mutex(false)

    /// Installs the handler once per process; the first command's choice holds.
    func bootstrap() {
        let first = Self.bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first else { return }
        switch self {
        case .text: LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0) }
        }
    }
}
