/// Reads and changes single jobs by id.
public protocol JobStatusDriver: Sendable {
    /// The job's record, looked up in `queue` or, without one, in every known queue.
    func job(_ id: JobID, queue: QueueName?) async throws -> JobRecord?
    /// Cancels a job that has not started. Running or finished jobs are not touched.
    func cancel(_ id: JobID, queue: QueueName?) async throws -> CancelResult
}
