/// What is known of one job.
public struct JobRecord: Sendable, Equatable {
    public var id: JobID
    public var queue: QueueName
    public var status: JobStatus
    public var kind: String?
    public var attempt: Int?
    /// When it is due, for scheduled and retrying jobs (ms).
    public var dueAt: Int64?
    public var updatedAt: Int64?
    public var lastError: String?
    /// The consumer running it, for running jobs.
    public var consumer: String?
    /// The dead-letter id, for dead jobs.
    public var deadLetterID: String?
    /// Why it is dead (kept with the status since issue 15; nil for older records).
    public var deadReason: DeadReason?
    /// The envelope's `owner`, kept after the job ends.
    public var owner: String?
    /// The envelope, while the job still waits or runs.
    public var envelope: JobEnvelope?

    public init(id: JobID, queue: QueueName, status: JobStatus) {
        self.id = id
        self.queue = queue
        self.status = status
    }
}
