/// An error that says a service a job needs (its queue's backend, its database) is out of reach or
/// not serving for now: unreachable, starting up, shutting down, failing over. The job is not at
/// fault, so the worker waits such a failure out by time and does not count it as an attempt: an
/// outage of a minute must not use up a retry budget sized for a job's own failures.
public protocol OutageError: Error {
    /// Whether this failure is the service's state rather than the job's.
    var isOutage: Bool { get }
}
