import Foundation
import Jobs
import Logging
import Producers

/// What a handler knows of the job it runs.
public struct JobContext: Sendable {
    public let id: JobID
    public let kind: String
    public let queue: QueueName
    /// This attempt, from 1.
    public let attempt: Int
    /// How often this stream entry was delivered; above 1 the job may have run before.
    public let deliveries: Int
    public let enqueuedAt: Int64
    /// When the job was due, if it waited in the delayed set (a scheduled job, a retry, a snooze).
    public let notBefore: Int64?
    /// The key the job was enqueued under, such as `notify:bet:42`: it names the job's effect.
    public let idempotencyKey: String?
    public let traceContext: String?
    public let logger: Logger
    /// For enqueuing follow-up jobs.
    public let client: JobClient
    let checkpoints = JobCheckpoints()

    /// Says this run saved progress it will not redo (a producer moved its cursor). A later
    /// failure of the run then uses no attempt: it is retried after the policy's first backoff as
    /// a snooze, so a producer that runs for hours is not buried by a few blips spread over them.
    /// A run that fails before any checkpoint uses an attempt as usual, so a producer that never
    /// gets anywhere still ends in the dead-letter queue.
    public func checkpointed() { checkpoints.mark() }
}
