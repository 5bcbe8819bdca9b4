/// A job kind without its payload type, as the registry and the worker keep it.
public struct JobKindDescriptor: Sendable, Equatable {
    public let name: JobName
    public let queue: QueueName
    public let retry: RetryPolicy
    public let timeout: Duration
}
