/// The result of enqueuing one job.
public struct EnqueueResult: Sendable, Equatable {
    public let id: JobID
    /// True when an idempotency key matched an earlier job, whose id is `id`.
    public let duplicate: Bool

    public init(id: JobID, duplicate: Bool) {
        self.id = id
        self.duplicate = duplicate
    }
}
