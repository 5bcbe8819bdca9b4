/// The life of a job.
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case queued, scheduled, running, succeeded, retrying, dead, cancelled
    /// Ended by an expected refusal, such as "insufficient balance"; the record's error is the reason.
    case rejected

    public var isFinal: Bool { self == .succeeded || self == .dead || self == .cancelled || self == .rejected }
}
