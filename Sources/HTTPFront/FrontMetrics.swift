import HTTPTypes
import Hummingbird
import Jobs
import Prometheus
import Synchronization

/// The front's own figures, in the registry `/metrics` shows.
///
/// Handles are made once per label set and kept: the registry's lookup (a lock and label
/// rendering) on every request cost more than a tenth of the front's throughput.
final class FrontMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let enqueued = Mutex<[String: Counter]>([:])
    private let rejections = Mutex<[String: Counter]>([:])
    private let requests = Mutex<[RequestKey: (count: Counter, duration: DurationHistogram)]>([:])

    /// Request durations, from the 1 ms a bet takes at rest to the 2 s reply timeout and beyond.
    static let durationBuckets: [Duration] = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000].map { .microseconds($0 * 1000) }

    private struct RequestKey: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    private static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "thepred", metricName: name, unitName: unit, helpText: help)
    }

    /// One answered request: `route` is the route's pattern (`/v1/jobs/{id}`), never the raw path,
    /// so ids cannot blow up the label sets.
    func request(route: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let handles = requests.withLock { cache in
            if let found = cache[key] { return found }
            let labels = [("route", route), ("method", method.rawValue), ("status", String(status))]
            let made = (
                registry.makeCounter(
                    descriptor: Self.name("front_requests", "total", "Requests answered, by route, method and status."), labels: labels),
                registry.makeDurationHistogram(
                    descriptor: Self.name("front_request_duration", "seconds", "Time to answer a request, by route, method and status."),
                    labels: labels, buckets: Self.durationBuckets)
            )
            cache[key] = made
            return made
        }
        handles.count.increment()
        handles.duration.record(duration)
    }

    func enqueued(_ kind: JobName, duplicate: Bool) {
        let key = kind.rawValue + (duplicate ? "/1" : "/0")
        let counter = enqueued.withLock { cache in
            if let found = cache[key] { return found }
            let made = registry.makeCounter(
                descriptor: Self.name(
                    "front_jobs_enqueued", "total", "Jobs the front enqueued, by kind; replay=true for an Idempotency-Key repeat."),
                labels: [("kind", kind.rawValue), ("replay", duplicate ? "true" : "false")])
            cache[key] = made
            return made
        }
        counter.increment()
    }

    func rejected(_ code: APIError.Code) {
        let counter = rejections.withLock { cache in
            if let found = cache[code.rawValue] { return found }
            let made = registry.makeCounter(
                descriptor: Self.name("front_requests_rejected", "total", "Requests refused, by error code."),
                labels: [("code", code.rawValue)])
            cache[code.rawValue] = made
            return made
        }
        counter.increment()
    }
}
