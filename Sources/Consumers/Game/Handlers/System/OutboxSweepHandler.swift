import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Runs `outbox.sweep`: a row still in `job_outbox` a minute after it was written is one its job
/// will not flush, and is enqueued here. Each sweep takes at most 1,000 rows; the next takes more.
struct OutboxSweepHandler: Sendable {
    let db: any PostgresClient

    func handle(_ payload: OutboxSweep, _ context: JobContext) async throws {
        let age = Duration.seconds(min(86_400, max(1, payload.olderThanSeconds ?? 60)))
        let swept = try await Outbox.sweep(db, client: context.client, olderThan: age)
        // Worth an operator's eye: each row is a job that vanished or a replay that skipped its flush.
        if swept > 0 { context.logger.warning("outbox rows left behind by their jobs enqueued", metadata: ["rows": "\(swept)"]) }
    }
}
