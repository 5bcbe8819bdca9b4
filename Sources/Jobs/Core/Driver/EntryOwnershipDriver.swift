/// A driver that can tell whether a fetched entry is still its consumer's, before the consumer
/// acts outside the queue on it: a worker whose run timed out must not run the `onDead` hook of a
/// job another worker has taken over (and may be running now).
public protocol EntryOwnershipDriver: Sendable {
    /// True while `job`'s entry is pending for `job.consumer`.
    func holds(_ job: FetchedJob) async throws -> Bool
}
