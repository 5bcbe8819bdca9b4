import Jobs
import Prometheus
import Synchronization

/// The front's own figures, and the queue's, in the registry `/metrics` shows.
final class FrontMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let enqueued = Mutex<[String: Counter]>([:])
    private let rejections = Mutex<[String: Counter]>([:])

    init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    func enqueued(_ kind: JobName, duplicate: Bool) {
        let key = kind.rawValue + (duplicate ? "/1" : "/0")
        let counter = enqueued.withLock { cache in
            if let found = cache[key] { return found }
            let made = registry.makeCounter(
                name: "thepred_front_jobs_enqueued_total", labels: [("kind", kind.rawValue), ("replay", duplicate ? "true" : "false")])
            cache[key] = made
            return made
        }
        counter.increment()
    }

    func rejected(_ code: APIError.Code) {
        let counter = rejections.withLock { cache in
            if let found = cache[code.rawValue] { return found }
            let made = registry.makeCounter(name: "thepred_front_requests_rejected_total", labels: [("code", code.rawValue)])
            cache[code.rawValue] = made
            return made
        }
        counter.increment()
    }

    /// Sets the queue gauges from fresh figures, so a scrape shows the queue as it is now.
    func record(_ stats: [QueueStats]) {
        for s in stats {
            let labels = [("queue", s.queue)]
            registry.makeGauge(name: "thepred_queue_ready", labels: labels).set(Double(s.ready))
            registry.makeGauge(name: "thepred_queue_delayed", labels: labels).set(Double(s.delayed))
            registry.makeGauge(name: "thepred_queue_in_flight", labels: labels).set(Double(s.inFlight))
            registry.makeGauge(name: "thepred_queue_dead", labels: labels).set(Double(s.dead))
            registry.makeGauge(name: "thepred_queue_consumers", labels: labels).set(Double(s.consumers))
            registry.makeGauge(name: "thepred_queue_oldest_wait_seconds", labels: labels).set(Double(s.oldestWaitingMillis ?? 0) / 1000)
            registry.makeGauge(name: "thepred_queue_jobs_per_second", labels: labels).set(s.recentRate)
        }
    }
}
