/// Moves jobs between producers and workers. This is the one capability every driver has;
/// optional abilities are the other protocols in this folder.
///
/// Delivery is at least once: a fetched job stays owned by its consumer until `complete`,
/// and is handed to another consumer by `reclaim` if its owner goes quiet.
public protocol JobQueueDriver: Sendable {
    /// Makes the queue's structures (stream and consumer group) if they are missing.
    func prepare(queue: QueueName) async throws

    /// Enqueues jobs in order, pipelined. A job whose `notBefore` is in the future waits in the
    /// delayed set. A job whose idempotency key was seen within the retention period is not
    /// enqueued again: its result carries the first job's id.
    func enqueue(_ jobs: [JobEnvelope], queue: QueueName) async throws -> [EnqueueResult]

    /// Takes up to `maxCount` new jobs for `consumer`, waiting up to `blockFor` when none is ready.
    /// Entries that cannot be decoded are moved to the dead-letter queue here, never returned.
    func fetch(queue: QueueName, consumer: String, maxCount: Int, blockFor: Duration) async throws -> [FetchedJob]

    /// Takes over jobs whose owner has held them longer than its lease without renewing. The
    /// lease is the one the owner gave in its heartbeat (`ConsumerInfo.leaseMillis`); `idleFor`
    /// stands in only for owners that never gave one. A job delivered more than `maxDeliveries`
    /// times goes to the dead-letter queue as poison.
    func reclaim(
        queue: QueueName, consumer: String, idleFor: Duration, maxCount: Int, maxDeliveries: Int
    ) async throws -> ReclaimResult

    /// Renews the lease on jobs a consumer is still running, so they are not reclaimed.
    func renew(queue: QueueName, consumer: String, entryIDs: [String]) async throws

    /// Settles fetched jobs: acks successes, records rejections, schedules retries and snoozes,
    /// buries the dead. Each job's move is atomic, and happens only while the entry is still its
    /// fetching consumer's (`FetchedJob.consumer`): after a takeover, a late outcome changes nothing.
    func complete(_ completions: [JobCompletion], queue: QueueName) async throws
}
