import Jobs

/// Every Redis key name the platform uses, built here and nowhere else.
///
/// All keys of one queue share the hash tag `{queue}`, so a script that moves a job between
/// them touches one Cluster slot, and queues spread over a Cluster.
public struct RedisKeys: Sendable, Equatable {
    public let prefix: String

    public init(prefix: String = "thepred") { self.prefix = prefix }

    /// The consumer group every worker of a queue reads through.
    public let group = "workers"

    private func queueKey(_ queue: QueueName, _ suffix: String) -> String { "\(prefix):{\(queue.rawValue)}:\(suffix)" }

    /// Stream of ready and in-flight jobs.
    public func stream(_ queue: QueueName) -> String { queueKey(queue, "stream") }
    /// Sorted set of delayed job ids by due time (ms).
    public func delayed(_ queue: QueueName) -> String { queueKey(queue, "delayed") }
    /// Hash of delayed job id to its stream fields (a JSON array).
    public func delayedJobs(_ queue: QueueName) -> String { queueKey(queue, "delayed:jobs") }
    /// Dead-letter stream.
    public func dead(_ queue: QueueName) -> String { queueKey(queue, "dead") }
    /// Prefix of per-job status hashes; the job id follows.
    public func jobPrefix(_ queue: QueueName) -> String { queueKey(queue, "job:") }
    public func job(_ queue: QueueName, _ id: JobID) -> String { jobPrefix(queue) + id.rawValue }
    /// Prefix of idempotency keys; the caller's key follows.
    public func idempotencyPrefix(_ queue: QueueName) -> String { queueKey(queue, "idem:") }
    /// Sorted set of consumer name to last heartbeat (ms).
    public func consumers(_ queue: QueueName) -> String { queueKey(queue, "consumers") }
    /// Hash of consumer name to its heartbeat info (JSON).
    public func consumerInfo(_ queue: QueueName) -> String { queueKey(queue, "consumers:info") }
    /// Hash of consumer name to its lease (ms): how long its jobs may go without a renewal
    /// before another consumer reclaims them.
    public func leases(_ queue: QueueName) -> String { queueKey(queue, "consumers:lease") }
    /// Counter of dead letters dropped because the dead-letter stream was at its cap.
    public func deadDropped(_ queue: QueueName) -> String { queueKey(queue, "dead:dropped") }
    /// Counter of jobs finished in the 10-second bucket that starts at `bucket` (ms).
    public func rateBucket(_ queue: QueueName, bucket: Int64) -> String { queueKey(queue, "rate:\(bucket)") }
    public static let rateBucketMillis: Int64 = 10_000

    /// Set of every prepared queue name.
    public var queues: String { "\(prefix):queues" }
    /// The scheduler leader lock.
    public var schedulerLeader: String { "\(prefix):scheduler:leader" }
    /// Hash of periodic schedule name to the last tick it enqueued (ms).
    public var scheduleTicks: String { "\(prefix):scheduler:ticks" }

    /// One rate-limit lane's next free send time (µs, Redis clock). All lanes of one limiter
    /// share the hash tag `{rate:limiter}`, so the reserve script touches one Cluster slot.
    public func rateLane(_ limiter: String, _ lane: String) -> String { "\(prefix):{rate:\(limiter)}:lane:\(lane)" }
    /// Set while the whole fleet must hold its sends (a Telegram 429); expires on its own.
    public func ratePause(_ limiter: String) -> String { "\(prefix):{rate:\(limiter)}:pause" }
    /// How the classes sharing one lane stand: fields `next:<class>` (µs, the class's next free
    /// time) and `seen:<class>` (µs, its last request). Same hash tag as the lanes.
    public func rateClasses(_ limiter: String, _ lane: String) -> String { "\(prefix):{rate:\(limiter)}:classes:\(lane)" }

    /// One subject's request allowance (its theoretical arrival time, µs, Redis clock), such as
    /// `user:42:write`; expires when the allowance is full again.
    public func requestRate(_ subject: String) -> String { "\(prefix):rl:\(subject)" }

    /// Hash of one broadcast's published status (`version`, `json`). The broadcast keys share the
    /// hash tag `{broadcasts}`, so the publish script touches one Cluster slot.
    public func broadcast(_ id: Int64) -> String { "\(prefix):{broadcasts}:\(id)" }
    /// Sorted set of published broadcast ids, scored by id.
    public var broadcastIndex: String { "\(prefix):{broadcasts}:index" }
    /// The broadcast id made by a `broadcast.create` job, by that job's id.
    public func broadcastRequest(_ jobID: String) -> String { "\(prefix):{broadcasts}:request:\(jobID)" }
}
