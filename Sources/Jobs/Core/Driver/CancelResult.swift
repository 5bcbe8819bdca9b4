/// What `cancel` did.
public enum CancelResult: Sendable, Equatable {
    case cancelled
    case notFound
    /// Too late: the job is running or finished. Carries its status.
    case notCancellable(JobStatus)
}
