import Foundation
import Jobs
import Logging
import Producers

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
        entries[kind.name.rawValue] = Entry(
            descriptor: kind.descriptor,
            run: { bytes, context in
                let payload: P
                do {
                    payload = try JSONCoding.decoder.decode(P.self, from: Data(bytes))
                } catch {
                    throw JobFailure.permanent("payload does not decode as \(name): \(error)")
                }
                try await handler(payload, context)
            }, onDead: dead)
    }

    /// Adds middleware around every handler registered here, inside the worker's own.
    public mutating func use(_ middleware: some JobMiddleware) { self.middleware.append(middleware) }

    private(set) var middleware: [any JobMiddleware] = []

    func entry(for kind: String) -> Entry? { entries[kind] }

    /// Runs the handler of `context.kind` inside these handlers' middleware, as a worker does
    /// (without the worker's own middleware). For tests and tools that drive handlers directly.
    public func run(_ payload: [UInt8], context: JobContext) async throws {
        guard let entry = entries[context.kind] else { throw JobsError(.unknownKind, "no handler for \(context.kind)") }
        try await Self.run(middleware[...], context) { try await entry.run(payload, $0) }
    }

    /// Runs a middleware chain, the first outermost, then the handler.
    static func run(
        _ chain: ArraySlice<any JobMiddleware>, _ context: JobContext, handler: @escaping @Sendable (JobContext) async throws -> Void
    ) async throws {
        guard let first = chain.first else { return try await handler(context) }
        let rest = chain.dropFirst()
        try await first.run(context) { try await run(rest, $0, handler: handler) }
    }

    /// The queues of the registered kinds.
    public var queues: [QueueName] { registry.queues }
}
