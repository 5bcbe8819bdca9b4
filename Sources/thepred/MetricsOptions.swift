import ArgumentParser
import Foundation

/// Where a process serves `/metrics`. Each role has its own default port, so a front, a worker
/// and a scheduler on one host do not collide; a second worker on the host needs its own.
struct MetricsOptions: ParsableArguments {
    @Option(help: "Address of the /metrics listener; loopback unless Prometheus scrapes from elsewhere. Env: METRICS_HOST.")
    var metricsHost: String = ProcessInfo.processInfo.environment["METRICS_HOST"] ?? "127.0.0.1"

    @Option(
        name: .customLong("metrics-port"),
        help: """
            Port of the /metrics listener; 0 serves no metrics. Env: METRICS_PORT. \
            Default: 9464 for the front, 9465 for a worker, 9466 for the scheduler.
            """)
    var metricsPortOption: Int?

    enum Role: String {
        case front, worker, scheduler

        var defaultPort: Int {
            switch self {
            case .front: 9464
            case .worker: 9465
            case .scheduler: 9466
            }
        }
    }

    func port(_ role: Role) -> Int {
        metricsPortOption ?? Int(ProcessInfo.processInfo.environment["METRICS_PORT"] ?? "") ?? role.defaultPort
    }

    func validate() throws {
        if metricsPortOption == nil, let raw = ProcessInfo.processInfo.environment["METRICS_PORT"], !raw.isEmpty, Int(raw) == nil {
            throw ValidationError("METRICS_PORT must be a port number (0 for none); got \(raw)")
        }
        let port = metricsPortOption ?? Int(ProcessInfo.processInfo.environment["METRICS_PORT"] ?? "") ?? 0
        guard (0...65535).contains(port) else { throw ValidationError("--metrics-port must be within 0...65535") }
        guard !metricsHost.isEmpty else { throw ValidationError("--metrics-host must not be empty") }
    }
}
