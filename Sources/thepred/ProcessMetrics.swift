import Logging
import Metrics
import MetricsExport
import Prometheus
import ServiceLifecycle

/// The process's Prometheus registry and its `/metrics` listener.
enum ProcessMetrics {
    /// From the 0.5 ms a bet's job takes to the minutes of a large settlement.
    static let durationBuckets: [Duration] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    ].map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }

    /// Routes swift-metrics to a Prometheus registry (once per process) and records the process's
    /// start and role.
    static func bootstrap(role: MetricsOptions.Role) -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(factory)
        ProcessGauges.register(in: registry, role: role.rawValue, version: BuildInfo.version)
        return registry
    }

    /// The listener, or nil when the port is 0. With `ready`, it also answers the probes
    /// `/healthz` and `/readyz`. A listener that cannot bind logs why and leaves the
    /// process running: the work matters more than its figures, and Prometheus's `up` shows the gap.
    static func listener(
        _ options: MetricsOptions, role: MetricsOptions.Role, registry: PrometheusCollectorRegistry, logger: Logger,
        refresh: @escaping @Sendable (Logger) async -> Void, ready: (@Sendable () async -> Bool)? = nil
    ) -> ServiceGroupConfiguration.ServiceConfiguration? {
        let port = options.port(role)
        guard port != 0 else { return nil }
        let app = MetricsListener.application(
            registry: registry, host: options.metricsHost, port: port, serverName: "thepred-\(role.rawValue)-metrics", logger: logger,
            refresh: refresh, ready: ready)
        return .init(service: SecondaryService(app, what: "metrics listener on \(options.metricsHost):\(port)", logger: logger))
    }
}
