import Foundation
import Prometheus

/// `process_start_time_seconds` and `thepred_build_info{role}`: what restart alerts and
/// dashboards key on, the same names every Prometheus client library uses.
public enum ProcessGauges {
    public static func register(in registry: PrometheusCollectorRegistry, role: String, version: String) {
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "", metricName: "process_start_time", unitName: "seconds", helpText: "Start time of the process since the epoch."
            ),
            labels: []
        ).set(to: Date().timeIntervalSince1970.rounded())
        registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "thepred", metricName: "build_info", unitName: "", helpText: "1, labelled with the process's role and version."),
            labels: [("role", role), ("version", version)]
        ).set(to: 1)
    }
}
