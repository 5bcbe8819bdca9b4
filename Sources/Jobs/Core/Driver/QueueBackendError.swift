/// An error of a driver's backend that tells whether the backend is out of reach, so callers
/// (the front's 503) need not know which driver they hold.
public protocol QueueBackendError: Error {
    /// The backend is unreachable, busy or answered garbage; the same call may succeed later.
    var isUnavailable: Bool { get }
}
