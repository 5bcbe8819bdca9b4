/// What `redrive` did with one id.
public struct RedriveResult: Sendable, Equatable {
    public let deadLetterID: String
    /// The job id it runs under again, or nil when the id was not in the dead-letter queue
    /// or the entry cannot be decoded into a job.
    public let jobID: JobID?
    public let error: String?

    public init(deadLetterID: String, jobID: JobID?, error: String?) {
        self.deadLetterID = deadLetterID
        self.jobID = jobID
        self.error = error
    }
}
