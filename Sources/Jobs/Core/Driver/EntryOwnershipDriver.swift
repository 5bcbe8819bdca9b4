/// A driver that can tell which consumer holds a fetched entry, before a consumer acts outside the
/// queue on it: a worker whose run timed out must not run the `onDead` hook of a job another worker
/// has taken over (and may be running now).
public protocol EntryOwnershipDriver: Sendable {
    /// The consumer `job`'s entry is pending for, or nil when none holds it (settled, buried by a
    /// reclaim as poison, or forgotten by the backend).
    func holder(of job: FetchedJob) async throws -> String?
}
