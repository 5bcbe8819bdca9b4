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

/// A job kind without its payload type, as the registry and the worker keep it.
public struct JobKindDescriptor: Sendable, Equatable {
    public let name: JobName
    public let queue: QueueName
    public let retry: RetryPolicy
    public let timeout: Duration
}

/// The job kinds a process knows, by name. Registering a name twice is an error.
public struct JobRegistry: Sendable {
    private var kinds: [String: JobKindDescriptor] = [:]

    public init() {}

    public mutating func register<P>(_ kind: JobKind<P>) throws(JobsError) {
        try register(kind.descriptor)
    }

    public mutating func register(_ descriptor: JobKindDescriptor) throws(JobsError) {
        guard kinds[descriptor.name.rawValue] == nil else {
            throw JobsError(.duplicateKind, "job kind '\(descriptor.name)' is registered twice")
        }
        kinds[descriptor.name.rawValue] = descriptor
    }

    public func descriptor(named name: String) -> JobKindDescriptor? { kinds[name] }

    public var all: [JobKindDescriptor] { kinds.values.sorted { $0.name.rawValue < $1.name.rawValue } }

    /// The queues the registered kinds use.
    public var queues: [QueueName] { Array(Set(kinds.values.map(\.queue))).sorted() }
}
