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
    /// The key the job was enqueued under, such as `notify:bet:42`: it names the job's effect.
    public let idempotencyKey: String?
    public let traceContext: String?
    public let logger: Logger
    /// For enqueuing follow-up jobs.
    public let client: JobClient
}

/// How a job is about to end in the dead-letter queue, for its kind's `onDead` hook.
public struct JobDeath: Sendable {
    public let id: JobID
    /// The key the job was enqueued under; it names the job's effect.
    public let idempotencyKey: String?
    public let reason: DeadReason
    public let message: String
    public let logger: Logger
}

/// The handlers a worker runs, one per job kind. Registering a kind twice is an error.
public struct JobHandlers: Sendable {
    struct Entry: Sendable {
        let descriptor: JobKindDescriptor
        let run: @Sendable (_ payload: [UInt8], _ context: JobContext) async throws -> Void
        /// Runs before the worker buries a job of this kind, whatever buried it (a permanent failure,
        /// exhausted attempts, a timeout, poison), so effects outside the queue can record its end.
        let onDead: (@Sendable (_ payload: [UInt8], _ death: JobDeath) async throws -> Void)?
    }

    public private(set) var registry = JobRegistry()
    private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Registers the handler of `kind`. Its payload is decoded from JSON before the handler runs;
    /// a payload that does not decode is a permanent failure.
    ///
    /// `onDead` runs before a job of this kind is buried by this worker, for any reason, with the
    /// payload if it decodes. It must be idempotent; an error it throws is logged and the job is
    /// buried all the same.
    public mutating func register<P>(
        _ kind: JobKind<P>, handler: @escaping @Sendable (_ payload: P, _ context: JobContext) async throws -> Void,
        onDead: (@Sendable (_ payload: P, _ death: JobDeath) async throws -> Void)? = nil
    ) throws(JobsError) {
        try registry.register(kind)
        let name = kind.name
        var dead: (@Sendable ([UInt8], JobDeath) async throws -> Void)?
        if let onDead {
            dead = { bytes, death in
                guard let payload = try? JSONCoding.decoder.decode(P.self, from: Data(bytes)) else { return }
                try await onDead(payload, death)
            }
        }
        entries[kind.name.rawValue] = Entry(descriptor: kind.descriptor, run: { bytes, context in
            let payload: P
            do {
                payload = try JSONCoding.decoder.decode(P.self, from: Data(bytes))
            } catch {
                throw JobFailure.permanent("payload does not decode as \(name): \(error)")
            }
            do {
                try await handler(payload, context)
            } catch let error as PostgresError where error.sqlState?.hasPrefix("22") == true {
                // A data exception (a time out of range, a number too large) fails the same way every time.
                throw JobFailure.permanent("a payload value PostgreSQL cannot take: \(error.message)")
            }
        }, onDead: dead)
    }

    func entry(for kind: String) -> Entry? { entries[kind] }

    /// The queues of the registered kinds.
    public var queues: [QueueName] { registry.queues }
}
