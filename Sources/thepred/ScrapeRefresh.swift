import Game
import Jobs
import JobsRedis
import Logging
import Metrics
import MetricsExport
import Postgres

/// What a worker's or scheduler's scrape reads afresh: the queues (once a second), Redis's memory
/// with them, and, for workers, the backlogs in PostgreSQL (once every 5 s).
struct ScrapeRefresh: Sendable {
    let driver: RedisQueueDriver
    let queues: QueueGauges
    var progress: ProgressGauges?
    var db: (any PostgresClient)?

    func callAsFunction(_ logger: Logger) async {
        let now = SystemJobClock().nowMillis()
        if let stats = await queues.refresh(from: driver, nowMillis: now, logger: logger) {
            progress?.queues(stats)
            if let memory = try? await driver.serverMemory() {
                Gauge(label: "thepred_redis_memory_used_bytes").record(Double(memory.used))
                Gauge(label: "thepred_redis_memory_max_bytes").record(Double(memory.max))
            }
        }
        guard let progress, let db else { return }
        do {
            try await progress.refresh(db: db, nowMillis: now)
        } catch {
            logger.warning("metrics without fresh backlog figures", metadata: ["error": "\(describe(error))"])
        }
    }
}
