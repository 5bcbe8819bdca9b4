import Jobs

/// How one job ended, for `JobMiddleware.ended`.
public struct JobEnd: Sendable {
    public let id: JobID
    /// The kind's name when this worker has a handler for it, otherwise "unknown": a producer
    /// can invent any number of kind names.
    public let kind: String
    public let queue: QueueName
    public let attempt: Int
    public let outcome: JobCompletion.Outcome
    /// The run went past its kind's timeout.
    public var timedOut: Bool = false
}
