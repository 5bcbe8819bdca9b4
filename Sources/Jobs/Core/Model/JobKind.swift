/// A typed job kind: its name, payload type, queue, retry policy and timeout.
///
/// Producers enqueue with it and workers register a handler for it, so both sides agree
/// on the payload type at compile time.
public struct JobKind<Payload: Codable & Sendable>: Sendable {
    public let descriptor: JobKindDescriptor

    public var name: JobName { descriptor.name }
    public var queue: QueueName { descriptor.queue }
    public var retry: RetryPolicy { descriptor.retry }
    public var timeout: Duration { descriptor.timeout }

    public init(
        _ name: JobName, payload: Payload.Type = Payload.self, queue: QueueName,
        retry: RetryPolicy = .default, timeout: Duration = .seconds(30)
    ) {
        descriptor = JobKindDescriptor(name: name, queue: queue, retry: retry, timeout: timeout)
    }
}
