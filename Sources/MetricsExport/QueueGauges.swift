import Jobs
import Logging
import Prometheus
import Synchronization

/// The queues' figures as Prometheus gauges, under the names an asynq or Sidekiq exporter's user
/// looks for: `thepred_queue_jobs{queue,state}`, `thepred_queue_latency_seconds{queue}` (the age
/// of the oldest waiting job) and `thepred_queue_consumers{queue}`.
///
/// Every process that serves `/metrics` shows them, read at scrape time and at most once a second
/// (`claim`), so they are the same whichever process is asked: aggregate with `max by (queue)`.
public final class QueueGauges: Sendable {
    /// Every value of the `state` label; a fixed set, so the label stays bounded.
    public static let states = ["ready", "delayed", "in_flight", "dead"]

    private let registry: PrometheusCollectorRegistry
    private let lastRefresh = Mutex<Int64>(.min)
    private let interval: Int64

    public init(registry: PrometheusCollectorRegistry, minimumIntervalMillis: Int64 = 1000) {
        self.registry = registry
        self.interval = minimumIntervalMillis
    }

    /// True, once per interval at most, for the scrape that should read the queues afresh.
    public func claim(nowMillis: Int64) -> Bool {
        lastRefresh.withLock { last in
            if last != .min && nowMillis - last < interval { return false }
            last = nowMillis
            return true
        }
    }

    /// Sets the gauges from fresh figures. Queue names come from the fleet's known queues, which the
    /// job registry fixes; producers cannot mint them per request.
    public func record(_ stats: [QueueStats]) {
        for s in stats {
            let counts = [s.ready, s.delayed, s.inFlight, s.dead]
            for (state, count) in zip(Self.states, counts) {
                registry.makeGauge(
                    descriptor: Self.name("queue_jobs", "", "Jobs in a queue, by state."), labels: [("queue", s.queue), ("state", state)]
                ).set(Double(count))
            }
            gauge("queue_latency", "seconds", "Age of the oldest job waiting to be fetched; 0 when none waits.", s.queue)
                .set(Double(s.oldestWaitingMillis ?? 0) / 1000)
            gauge("queue_consumers", "", "Live consumers (workers) of a queue.", s.queue).set(Double(s.consumers))
            gauge("queue_jobs_per_second", "", "Jobs of a queue finished per second over the last minute.", s.queue)
                .set(s.recentRate)
        }
    }

    /// Reads every known queue's figures and sets the gauges, if this scrape is the one a second
    /// that should (`claim`); returns them, or nil when they were not read. A queue out of reach
    /// leaves the gauges as last seen, and logs why.
    @discardableResult
    public func refresh(from driver: any QueueInspectionDriver, nowMillis: Int64, logger: Logger) async -> [QueueStats]? {
        guard claim(nowMillis: nowMillis) else { return nil }
        do {
            var out: [QueueStats] = []
            for queue in try await driver.knownQueues() { out.append(try await driver.stats(queue: queue)) }
            record(out)
            return out
        } catch {
            logger.warning("metrics without fresh queue figures", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func gauge(_ name: String, _ unit: String, _ help: String, _ queue: String) -> Gauge {
        registry.makeGauge(descriptor: Self.name(name, unit, help), labels: [("queue", queue)])
    }

    static func name(_ name: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "thepred", metricName: name, unitName: unit, helpText: help)
    }
}
