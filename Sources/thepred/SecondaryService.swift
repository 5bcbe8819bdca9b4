import Logging
import ServiceLifecycle

/// A service whose failure is logged instead of stopping the group: the metrics listener, whose
/// port may be taken, must not take the worker's jobs down with it.
struct SecondaryService<Base: Service>: Service {
    let base: Base
    let what: String
    let logger: Logger

    init(_ base: Base, what: String, logger: Logger) {
        self.base = base
        self.what = what
        self.logger = logger
    }

    func run() async throws {
        do {
            try await base.run()
        } catch is CancellationError {
            return
        } catch {
            logger.error("\(what) failed; the process goes on without it", metadata: ["error": "\(error)"])
            // A service that returns early ends the group, so this one waits for the shutdown.
            try? await gracefulShutdown()
        }
    }
}
