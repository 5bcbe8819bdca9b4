import Jobs
import Metrics
import Synchronization

/// swift-metrics figures of a worker, created once per (queue, kind) and reused.
final class WorkerMetrics: Sendable {
    struct Kind: Sendable {
        let processed: Counter
        let failed: Counter
        let retried: Counter
        let snoozed: Counter
        let dead: Counter
        let rejected: Counter
        let duration: Timer
        let queueWait: Timer
    }

    private let cache = Mutex<[String: Kind]>([:])

    func kind(_ name: String, queue: QueueName) -> Kind {
        let key = queue.rawValue + "/" + name
        if let found = cache.withLock({ $0[key] }) { return found }
        let dims = [("queue", queue.rawValue), ("kind", name)]
        let made = Kind(
            processed: Counter(label: "thepred_jobs_processed_total", dimensions: dims),
            failed: Counter(label: "thepred_jobs_failed_total", dimensions: dims),
            retried: Counter(label: "thepred_jobs_retried_total", dimensions: dims),
            snoozed: Counter(label: "thepred_jobs_snoozed_total", dimensions: dims),
            dead: Counter(label: "thepred_jobs_dead_total", dimensions: dims),
            rejected: Counter(label: "thepred_jobs_rejected_total", dimensions: dims),
            duration: Timer(label: "thepred_job_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds),
            queueWait: Timer(label: "thepred_job_queue_wait_seconds", dimensions: dims, preferredDisplayUnit: .seconds))
        cache.withLock { $0[key] = made }
        return made
    }
}
