/// What one `reclaim` call took over.
public struct ReclaimResult: Sendable, Equatable {
    /// Jobs now owned by the reclaiming consumer, to run.
    public var jobs: [FetchedJob]
    /// Jobs just buried as poison (delivered too often), so their kinds' hooks can record the end.
    public var poisoned: [FetchedJob]

    public init(jobs: [FetchedJob] = [], poisoned: [FetchedJob] = []) {
        self.jobs = jobs
        self.poisoned = poisoned
    }
}
