import Jobs
import JobsWorker
import Metrics
import MetricsTestKit
import Producers
import TestSupport
import Testing

/// The process-wide metrics backend of this test bundle; swift-metrics bootstraps only once.
let testMetrics: TestMetrics = {
    let metrics = TestMetrics()
    MetricsSystem.bootstrap(metrics)
    return metrics
}()

@Suite("Worker metrics")
struct WorkerMetricsTests {
    @Test("processed, failed, retried, dead, duration and queue wait are reported per queue and kind")
    func figures() async throws {
        let metrics = testMetrics
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue("metrics")
        let good = JobKind<Work>("test.good", queue: queue)
        let bad = JobKind<Work>("test.bad", queue: queue, retry: .fixed(maxAttempts: 2, delay: .milliseconds(1)))
        var handlers = JobHandlers()
        try handlers.register(good) { _, _ in }
        try handlers.register(bad) { _, _ in throw TestFailure("nope") }
        let client = JobClient(driver: driver)
        try await client.enqueue(good, [Work(n: 1), Work(n: 2), Work(n: 3)])
        try await client.enqueue(bad, Work(n: 4))
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config(queue))
        try await runWorker(worker) {
            _ = try await driver.promoteDue(queue: queue, limit: 10)
            return try await driver.stats(queue: queue).dead == 1
        }
        let goodDims = [("queue", queue.rawValue), ("kind", "test.good")]
        let badDims = [("queue", queue.rawValue), ("kind", "test.bad")]
        #expect(metrics.counterTotal(label: "thepred_jobs_processed_total", dimensions: goodDims) == 3)
        #expect(metrics.counterTotal(label: "thepred_jobs_failed_total", dimensions: badDims) == 2)
        #expect(metrics.counterTotal(label: "thepred_jobs_retried_total", dimensions: badDims) == 1)
        #expect(metrics.counterTotal(label: "thepred_jobs_dead_total", dimensions: badDims) == 1)
        #expect(try metrics.expectTimer("thepred_job_duration_seconds", goodDims).values.count == 3)
        #expect(try metrics.expectTimer("thepred_job_queue_wait_seconds", badDims).values.count == 2)
    }
}
