import Jobs
import Metrics
import Synchronization

/// swift-metrics figures of a worker, created once per (queue, kind) and reused, under the names
/// asynq's and Sidekiq's exporters use: `thepred_jobs_total{queue,kind,outcome}`,
/// `thepred_job_duration_seconds{queue,kind}` and `thepred_job_queue_wait_seconds{queue}`.
final class WorkerMetrics: Sendable {
    /// Every value of the `outcome` label.
    enum Outcome: String, CaseIterable, Sendable {
        case succeeded, retried, snoozed, rejected, dead, timeout
    }

    struct Kind: Sendable {
        let outcomes: [Outcome: Counter]
        let duration: Timer
    }

    private let kinds = Mutex<[String: Kind]>([:])
    private let waits = Mutex<[QueueName: Timer]>([:])

    func kind(_ name: String, queue: QueueName) -> Kind {
        let key = queue.rawValue + "/" + name
        if let found = kinds.withLock({ $0[key] }) { return found }
        let dims = [("queue", queue.rawValue), ("kind", name)]
        var outcomes: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            outcomes[outcome] = Counter(label: "thepred_jobs_total", dimensions: dims + [("outcome", outcome.rawValue)])
        }
        let made = Kind(
            outcomes: outcomes, duration: Timer(label: "thepred_job_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds))
        kinds.withLock { $0[key] = made }
        return made
    }

    func queueWait(_ queue: QueueName) -> Timer {
        if let found = waits.withLock({ $0[queue] }) { return found }
        let made = Timer(label: "thepred_job_queue_wait_seconds", dimensions: [("queue", queue.rawValue)], preferredDisplayUnit: .seconds)
        waits.withLock { $0[queue] = made }
        return made
    }
}
