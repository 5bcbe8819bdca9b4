import Foundation
import Jobs
import Logging
import Producers

/// How a job is about to end in the dead-letter queue, for its kind's `onDead` hook.
public struct JobDeath: Sendable {
    public let id: JobID
    /// The key the job was enqueued under; it names the job's effect.
    public let idempotencyKey: String?
    public let reason: DeadReason
    public let message: String
    public let logger: Logger
}
