/// The result of enqueuing one job.
public struct EnqueueResult: Sendable, Equatable {
    public let id: JobID
    /// True when an idempotency key matched an earlier job, whose id is `id`.
    public let duplicate: Bool
    /// True when that earlier job was enqueued with another `idempotencyFingerprint`: the key was
    /// reused for a different request. False when either has none (a key kept before fingerprints).
    public let fingerprintDiffers: Bool

    public init(id: JobID, duplicate: Bool, fingerprintDiffers: Bool = false) {
        self.id = id
        self.duplicate = duplicate
        self.fingerprintDiffers = fingerprintDiffers
    }
}
