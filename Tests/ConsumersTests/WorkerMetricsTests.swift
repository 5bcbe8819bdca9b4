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
        func outcome(_ dims: [(String, String)], _ outcome: String) -> Int64 {
            metrics.counterTotal(label: "thepred_jobs_total", dimensions: dims + [("outcome", outcome)])
        }
        #expect(outcome(goodDims, "succeeded") == 3)
        #expect(outcome(badDims, "retried") == 1)
        #expect(outcome(badDims, "dead") == 1)
        #expect(outcome(badDims, "succeeded") == 0)
        #expect(try metrics.expectTimer("thepred_job_duration_seconds", goodDims).values.count == 3)
        // Queue wait is per queue only: one series whatever the kinds.
        #expect(try metrics.expectTimer("thepred_job_queue_wait_seconds", [("queue", queue.rawValue)]).values.count == 5)
    }

    @Test("a run past its timeout that will run again counts as timeout; one on its last attempt as dead")
    func timeoutOutcome() async throws {
        let metrics = testMetrics
        let driver = MemoryQueueDriver()
        let queue = uniqueQueue("metrics-timeout")
        let kind = JobKind<Work>(
            "test.slow", queue: queue, retry: .fixed(maxAttempts: 2, delay: .milliseconds(1)), timeout: .milliseconds(100))
        var handlers = JobHandlers()
        try handlers.register(kind) { _, _ in try await Task.sleep(for: .seconds(5)) }
        try await JobClient(driver: driver).enqueue(kind, Work(n: 1))
        try await runWorker(WorkerService(driver: driver, handlers: handlers, configuration: config(queue))) {
            _ = try await driver.promoteDue(queue: queue, limit: 10)
            return try await driver.stats(queue: queue).dead == 1
        }
        let dims = [("queue", queue.rawValue), ("kind", "test.slow")]
        #expect(metrics.counterTotal(label: "thepred_jobs_total", dimensions: dims + [("outcome", "timeout")]) == 1)
        #expect(metrics.counterTotal(label: "thepred_jobs_total", dimensions: dims + [("outcome", "dead")]) == 1)
        #expect(metrics.counterTotal(label: "thepred_jobs_total", dimensions: dims + [("outcome", "retried")]) == 0)
    }
}
