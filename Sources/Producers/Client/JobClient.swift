import Foundation
import Jobs

/// The typed way to enqueue: the payload type must match the kind.
public struct JobClient: Sendable {
    public let driver: any JobQueueDriver
    public let clock: any JobClock

    public init(driver: any JobQueueDriver, clock: any JobClock = SystemJobClock()) {
        self.driver = driver
        self.clock = clock
    }

    /// Enqueues one job.
    @discardableResult
    public func enqueue<P>(_ kind: JobKind<P>, _ payload: P, options: EnqueueOptions = .now) async throws -> EnqueueResult {
        try await enqueue(kind, [(payload, options)])[0]
    }

    /// Enqueues many jobs of one kind in one pipelined call, in order.
    @discardableResult
    public func enqueue<P>(_ kind: JobKind<P>, _ payloads: [P], options: EnqueueOptions = .now) async throws -> [EnqueueResult] {
        try await enqueue(kind, payloads.map { ($0, options) })
    }

    /// Enqueues many jobs of one kind, each with its own options.
    @discardableResult
    public func enqueue<P>(_ kind: JobKind<P>, _ items: [(P, EnqueueOptions)]) async throws -> [EnqueueResult] {
        let now = clock.nowMillis()
        let encoder = JSONCoding.encoder
        var envelopes: [JobEnvelope] = []
        envelopes.reserveCapacity(items.count)
        for (payload, options) in items {
            let bytes: [UInt8]
            if let own = payload as? any SelfEncodingPayload {
                bytes = own.jsonBytes()
            } else {
                do {
                    bytes = Array(try encoder.encode(payload))
                } catch {
                    throw JobsError(.encoding, "cannot encode the payload of \(kind.name): \(error)")
                }
            }
            envelopes.append(
                JobEnvelope(
                    id: JobID.generate(millis: now), kind: kind.name.rawValue, payload: bytes, enqueuedAt: now,
                    // Within what decoding accepts: a time before 1970 runs at once, as it always did.
                    notBefore: options.notBefore.map { min(max($0, 0), JobEnvelope.Limits.maxMillis) },
                    idempotencyKey: options.idempotencyKey, traceContext: options.traceContext,
                    owner: options.owner, idempotencyFingerprint: options.idempotencyFingerprint))
        }
        return try await driver.enqueue(envelopes, queue: kind.queue)
    }

    /// Enqueues already-encoded envelopes, for tools that move jobs they do not know the type of.
    public func enqueue(envelopes: [JobEnvelope], queue: QueueName) async throws -> [EnqueueResult] {
        try await driver.enqueue(envelopes, queue: queue)
    }
}
