import Foundation
import Jobs

/// When and how one job is enqueued.
public struct EnqueueOptions: Sendable, Equatable {
    /// Not before this time (ms since the epoch). Nil runs as soon as a worker is free.
    public var notBefore: Int64?
    /// A repeat with the same key, within the idempotency retention, returns the first job's id.
    public var idempotencyKey: String?
    /// A digest of the request, kept with `idempotencyKey`: a repeat of the key with another
    /// digest comes back with `EnqueueResult.fingerprintDiffers`, and is not enqueued either.
    public var idempotencyFingerprint: String?
    /// A W3C `traceparent` to carry into the handler.
    public var traceContext: String?
    /// Who asks for the job (`tg:<telegram id>` for a user of the front), kept with its status.
    public var owner: String?

    public init(notBefore: Int64? = nil, idempotencyKey: String? = nil, traceContext: String? = nil, owner: String? = nil) {
        self.notBefore = notBefore
        self.idempotencyKey = idempotencyKey
        self.traceContext = traceContext
        self.owner = owner
    }

    public static let now = EnqueueOptions()

    public static func at(_ date: Date, idempotencyKey: String? = nil) -> EnqueueOptions {
        EnqueueOptions(notBefore: Int64((date.timeIntervalSince1970 * 1000).rounded()), idempotencyKey: idempotencyKey)
    }

    public static func after(_ delay: Duration, idempotencyKey: String? = nil, clock: any JobClock = SystemJobClock()) -> EnqueueOptions {
        let (due, overflow) = clock.nowMillis().addingReportingOverflow(delay.milliseconds)
        return EnqueueOptions(notBefore: overflow ? .max : due, idempotencyKey: idempotencyKey)
    }

    public static func idempotent(_ key: String) -> EnqueueOptions { EnqueueOptions(idempotencyKey: key) }
}
