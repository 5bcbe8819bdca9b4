import Jobs

/// `backlogs.sweep`: finds broadcasts and resolved markets whose backlog is still open while
/// their producer (`broadcast.fanout`, `markets.notify`) has ended, buried after its attempts or
/// forgotten by a Redis that lost its last writes, and queues a replacement that goes on from
/// the backlog's checkpoint. The scheduler enqueues one a minute.
public struct BacklogsSweep: Codable, Sendable, Equatable {
    /// Backlogs younger than this are left to the producer that was just queued (default 60 s).
    public var olderThanSeconds: Int?

    public init(olderThanSeconds: Int? = nil) { self.olderThanSeconds = olderThanSeconds }

    enum CodingKeys: String, CodingKey { case olderThanSeconds = "older_than_s" }

    /// Never retried: the next minute's sweep does the same work.
    public static let kind = JobKind<BacklogsSweep>("backlogs.sweep", queue: "default", retry: .never, timeout: .seconds(60))
}
