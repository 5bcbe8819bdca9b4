import Jobs

/// `outbox.sweep`: enqueues `job_outbox` rows that their own job left behind, whatever happened
/// to it (a Redis that died and forgot the job, a replay that returned before its flush). The
/// scheduler enqueues one a minute; `outbox:<row id>` keys make a row count once.
public struct OutboxSweep: Codable, Sendable, Equatable {
    /// Rows younger than this are left to the job that wrote them (default 60 s).
    public var olderThanSeconds: Int?

    public init(olderThanSeconds: Int? = nil) { self.olderThanSeconds = olderThanSeconds }

    enum CodingKeys: String, CodingKey { case olderThanSeconds = "older_than_s" }

    /// Never retried: the next minute's sweep does the same work.
    public static let kind = JobKind<OutboxSweep>("outbox.sweep", queue: "default", retry: .never, timeout: .seconds(60))
}
