/// Promotes delayed jobs (retries, snoozes, scheduled jobs) to the ready queue when due.
public protocol DelayedJobDriver: Sendable {
    /// Moves due jobs to the ready queue, at most `limit`, and tells when the next one is due.
    func promoteDue(queue: QueueName, limit: Int) async throws -> PromoteResult
}
