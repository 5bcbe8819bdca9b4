import Foundation
import Jobs
import Logging
import Producers

/// What a handler knows of the job it runs.
public struct JobContext: Sendable {
    public let id: JobID
    public let kind: String
    public let queue: QueueName
    /// This attempt, from 1.
    public let attempt: Int
    /// How often this stream entry was delivered; above 1 the job may have run before.
    public let deliveries: Int
    public let enqueuedAt: Int64
    public let traceContext: String?
    public let logger: Logger
    /// For enqueuing follow-up jobs.
    public let client: JobClient
}

/// The handlers a worker runs, one per job kind. Registering a kind twice is an error.
public struct JobHandlers: Sendable {
    struct Entry: Sendable {
        let descriptor: JobKindDescriptor
        let run: @Sendable (_ payload: [UInt8], _ context: JobContext) async throws -> Void
    }

    public private(set) var registry = JobRegistry()
    private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Registers the handler of `kind`. Its payload is decoded from JSON before the handler runs;
    /// a payload that does not decode is a permanent failure.
    public mutating func register<P>(
        _ kind: JobKind<P>, handler: @escaping @Sendable (_ payload: P, _ context: JobContext) async throws -> Void
    ) throws(JobsError) {
        try registry.register(kind)
        let name = kind.name
        entries[kind.name.rawValue] = Entry(descriptor: kind.descriptor) { bytes, context in
            let payload: P
            do {
                payload = try JSONCoding.decoder.decode(P.self, from: Data(bytes))
            } catch {
                throw JobFailure.permanent("payload does not decode as \(name): \(error)")
            }
            try await handler(payload, context)
        }
    }

    func entry(for kind: String) -> Entry? { entries[kind] }

    /// The queues of the registered kinds.
    public var queues: [QueueName] { registry.queues }
}
