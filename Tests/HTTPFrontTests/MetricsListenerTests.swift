import Foundation
import Hummingbird
import HummingbirdTesting
import Jobs
import Logging
import MetricsExport
import Prometheus
import Synchronization
import Testing

@Suite("The metrics listener every process runs")
struct MetricsListenerTests {
    @Test("/metrics renders the registry after the refresh; the probes follow readiness")
    func listener() async throws {
        let registry = PrometheusCollectorRegistry()
        let refreshed = Mutex(0)
        let ready = Mutex(true)
        let app = Application(
            router: MetricsListener.router(
                registry: registry,
                refresh: { _ in
                    refreshed.withLock { $0 += 1 }
                    registry.makeGauge(name: "thepred_test_refreshes", labels: []).set(to: Double(refreshed.withLock { $0 }))
                }, ready: { ready.withLock { $0 } }))
        try await app.test(.router) { client async throws in
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(metrics.status == .ok)
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            #expect(String(buffer: metrics.body).contains("thepred_test_refreshes 1.0"))
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .ok)
            ready.withLock { $0 = false }
            #expect(try await client.execute(uri: "/readyz", method: .get).status == .serviceUnavailable)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
    }

    @Test("queue gauges: one read a second however often scraped, with bounded state labels")
    func queueGauges() async throws {
        let registry = PrometheusCollectorRegistry()
        let gauges = QueueGauges(registry: registry)
        let driver = MemoryQueueDriver()
        let queue = try QueueName(validating: "gauges")
        try await driver.prepare(queue: queue)
        let logger = Logger(label: "test")
        #expect(await gauges.refresh(from: driver, nowMillis: 10_000, logger: logger) != nil)
        #expect(await gauges.refresh(from: driver, nowMillis: 10_500, logger: logger) == nil)
        #expect(await gauges.refresh(from: driver, nowMillis: 11_000, logger: logger) != nil)
        var out: [UInt8] = []
        registry.emit(into: &out)
        let text = String(decoding: out, as: UTF8.self)
        for state in QueueGauges.states { #expect(text.contains(#"thepred_queue_jobs{queue="gauges",state="\#(state)"} 0"#)) }
        #expect(text.contains(#"thepred_queue_latency_seconds{queue="gauges"} 0"#))
        #expect(text.contains(#"thepred_queue_consumers{queue="gauges"} 0"#))
    }
}
