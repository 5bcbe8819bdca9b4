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
