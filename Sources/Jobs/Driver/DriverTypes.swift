/// The result of enqueuing one job.
public struct EnqueueResult: Sendable, Equatable {
    public let id: JobID
    /// True when an idempotency key matched an earlier job, whose id is `id`.
    public let duplicate: Bool

    public init(id: JobID, duplicate: Bool) {
        self.id = id
        self.duplicate = duplicate
    }
}

/// A job handed to a consumer.
public struct FetchedJob: Sendable, Equatable {
    public let queue: QueueName
    /// The stream entry id: the handle for ack, retry and bury.
    public let entryID: String
    public let envelope: JobEnvelope
    /// How many times this entry has been delivered, this time included.
    public let deliveries: Int
    /// The consumer this delivery went to. A completion counts only while the entry is still
    /// this consumer's: once another consumer has taken it over, a late outcome changes nothing.
    public let consumer: String

    public init(queue: QueueName, entryID: String, envelope: JobEnvelope, deliveries: Int, consumer: String) {
        self.queue = queue
        self.entryID = entryID
        self.envelope = envelope
        self.deliveries = deliveries
        self.consumer = consumer
    }
}

/// What one `reclaim` call took over.
public struct ReclaimResult: Sendable, Equatable {
    /// Jobs now owned by the reclaiming consumer, to run.
    public var jobs: [FetchedJob]
    /// Jobs just buried as poison (delivered too often), so their kinds' hooks can record the end.
    public var poisoned: [FetchedJob]

    public init(jobs: [FetchedJob] = [], poisoned: [FetchedJob] = []) {
        self.jobs = jobs
        self.poisoned = poisoned
    }
}

/// Why a job went to the dead-letter queue.
public struct DeadReason: Sendable, Hashable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    /// The handler said the job can never succeed.
    public static let permanent = DeadReason(rawValue: "permanent")
    /// Every attempt of the retry policy failed.
    public static let exhausted = DeadReason(rawValue: "exhausted")
    /// Delivered too often without finishing: it crashes or hangs its workers.
    public static let poison = DeadReason(rawValue: "poison")
    /// The stream entry is not a job envelope.
    public static let undecodable = DeadReason(rawValue: "undecodable")
    /// No worker knows the job's kind.
    public static let unknownKind = DeadReason(rawValue: "unknown_kind")
    public var description: String { rawValue }
}

/// How a fetched job ends this delivery.
public struct JobCompletion: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case succeeded
        /// Run again at `at` (ms) as the next attempt; `error` joins the history.
        case retry(at: Int64, error: AttemptError)
        /// Run again at `at` (ms) with the same attempt.
        case snooze(at: Int64)
        /// Into the dead-letter queue.
        case dead(reason: DeadReason, error: AttemptError)
        /// Ended by an expected refusal: final, with its reason in the job's record, and not a dead letter.
        case rejected(reason: String)
    }

    public let job: FetchedJob
    public let outcome: Outcome

    public init(job: FetchedJob, outcome: Outcome) {
        self.job = job
        self.outcome = outcome
    }

    public static func succeeded(_ job: FetchedJob) -> JobCompletion { .init(job: job, outcome: .succeeded) }

    /// The envelope to store for the next run, per the outcome.
    public var nextEnvelope: JobEnvelope {
        var e = job.envelope
        switch outcome {
        case .succeeded, .rejected: break
        case .retry(let at, let error):
            e.attempt += 1
            e.errors.append(error)
            e.notBefore = at
        case .snooze(let at):
            e.snoozes += 1
            e.notBefore = at
        case .dead(_, let error):
            e.errors.append(error)
        }
        return e
    }
}

/// What `promoteDue` did.
public struct PromoteResult: Sendable, Equatable {
    public let promoted: Int
    /// When the next delayed job is due (ms), if any waits.
    public let nextDue: Int64?

    public init(promoted: Int, nextDue: Int64?) {
        self.promoted = promoted
        self.nextDue = nextDue
    }
}

/// The life of a job.
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case queued, scheduled, running, succeeded, retrying, dead, cancelled
    /// Ended by an expected refusal, such as "insufficient balance"; the record's error is the reason.
    case rejected

    public var isFinal: Bool { self == .succeeded || self == .dead || self == .cancelled || self == .rejected }
}

/// What is known of one job.
public struct JobRecord: Sendable, Equatable {
    public var id: JobID
    public var queue: QueueName
    public var status: JobStatus
    public var kind: String?
    public var attempt: Int?
    /// When it is due, for scheduled and retrying jobs (ms).
    public var dueAt: Int64?
    public var updatedAt: Int64?
    public var lastError: String?
    /// The consumer running it, for running jobs.
    public var consumer: String?
    /// The dead-letter id, for dead jobs.
    public var deadLetterID: String?
    /// The envelope's `owner`, kept after the job ends.
    public var owner: String?
    /// The envelope, while the job still waits or runs.
    public var envelope: JobEnvelope?

    public init(id: JobID, queue: QueueName, status: JobStatus) {
        self.id = id
        self.queue = queue
        self.status = status
    }
}

/// What `cancel` did.
public enum CancelResult: Sendable, Equatable {
    case cancelled
    case notFound
    /// Too late: the job is running or finished. Carries its status.
    case notCancellable(JobStatus)
}

/// Filters for listing dead letters.
public struct DeadLetterFilter: Sendable, Equatable {
    public var kind: String?
    /// Only entries that died at or after this time (ms).
    public var since: Int64?
    public var limit: Int

    public init(kind: String? = nil, since: Int64? = nil, limit: Int = 100) {
        self.kind = kind
        self.since = since
        self.limit = limit
    }

    public func matches(_ d: DeadLetter) -> Bool {
        if let kind, d.kind != kind { return false }
        if let since, d.failedAt < since { return false }
        return true
    }
}

/// One entry of a dead-letter queue.
public struct DeadLetter: Sendable, Equatable {
    /// The dead-letter stream id.
    public var id: String
    public var queue: QueueName
    public var jobID: String?
    public var kind: String?
    public var reason: DeadReason
    /// The last error, in words.
    public var message: String
    public var failedAt: Int64
    /// The envelope, or nil when the entry was undecodable.
    public var envelope: JobEnvelope?
    /// The stream fields as they came, for undecodable entries.
    public var rawFields: [(String, String)]

    public init(
        id: String, queue: QueueName, jobID: String?, kind: String?, reason: DeadReason, message: String,
        failedAt: Int64, envelope: JobEnvelope?, rawFields: [(String, String)]
    ) {
        self.id = id
        self.queue = queue
        self.jobID = jobID
        self.kind = kind
        self.reason = reason
        self.message = message
        self.failedAt = failedAt
        self.envelope = envelope
        self.rawFields = rawFields
    }

    public static func == (a: DeadLetter, b: DeadLetter) -> Bool {
        a.id == b.id && a.queue == b.queue && a.jobID == b.jobID && a.reason == b.reason && a.message == b.message
            && a.failedAt == b.failedAt && a.envelope == b.envelope
            && a.rawFields.map { $0.0 + "=" + $0.1 } == b.rawFields.map { $0.0 + "=" + $0.1 }
    }
}

extension DeadLetter {
    /// Reads a dead-letter stream entry: the dead_* fields, the job's fields, and raw.* fields
    /// of an entry that was never a job.
    public init(entryID id: String, fields: [(String, [UInt8])], queue: QueueName) {
        var reason = DeadReason.permanent
        var message = ""
        var failedAt = Int64(id.split(separator: "-").first ?? "") ?? 0
        var jobFields: [(String, [UInt8])] = []
        var raw: [(String, String)] = []
        for (name, value) in fields {
            switch name {
            case "dead_reason": reason = DeadReason(rawValue: String(decoding: value, as: UTF8.self))
            case "dead_message": message = String(decoding: value, as: UTF8.self)
            case "failed_at": failedAt = Int64(String(decoding: value, as: UTF8.self)) ?? failedAt
            case "raw_dropped", "fields_dropped": continue
            default:
                if name.hasPrefix("raw.") {
                    raw.append((String(name.dropFirst(4)), String(decoding: value, as: UTF8.self)))
                } else {
                    jobFields.append((name, value))
                }
            }
        }
        let envelope = jobFields.isEmpty ? nil : try? JobEnvelope(fields: jobFields)
        self.init(
            id: id, queue: queue, jobID: envelope?.id.rawValue ?? raw.first { $0.0 == JobEnvelope.Field.id }?.1,
            kind: envelope?.kind ?? raw.first { $0.0 == JobEnvelope.Field.kind }?.1, reason: reason, message: message,
            failedAt: failedAt, envelope: envelope, rawFields: raw)
    }
}

extension DeadLetter {
    /// Raw fields kept with an undecodable entry's dead letter. A hostile entry can have thousands
    /// of fields: the first of each envelope field (id, kind, payload, ...) is always kept, then
    /// others in order up to `keep` in all, as `raw.<name>`; `raw_dropped` counts the rest.
    public static func rawFields(_ fields: [(String, [UInt8])], keep: Int = 64) -> [(String, [UInt8])] {
        guard fields.count > keep else { return fields.map { ("raw." + $0.0, $0.1) } }
        var seen = Set<String>()
        var chosen = Set<Int>()
        for (i, field) in fields.enumerated() where JobEnvelope.Field.all.contains(field.0) && seen.insert(field.0).inserted {
            chosen.insert(i)
        }
        for i in fields.indices where chosen.count < keep { chosen.insert(i) }
        var out = fields.indices.filter(chosen.contains).map { ("raw." + fields[$0].0, fields[$0].1) }
        out.append(("raw_dropped", Array(String(fields.count - chosen.count).utf8)))
        return out
    }
}

/// What `redrive` did with one id.
public struct RedriveResult: Sendable, Equatable {
    public let deadLetterID: String
    /// The job id it runs under again, or nil when the id was not in the dead-letter queue
    /// or the entry cannot be decoded into a job.
    public let jobID: JobID?
    public let error: String?

    public init(deadLetterID: String, jobID: JobID?, error: String?) {
        self.deadLetterID = deadLetterID
        self.jobID = jobID
        self.error = error
    }
}

/// Counts of one queue at one moment.
public struct QueueStats: Sendable, Equatable, Codable {
    public var queue: String
    public var ready: Int
    public var delayed: Int
    public var inFlight: Int
    public var dead: Int
    public var consumers: Int
    /// Age of the oldest job waiting to be fetched, in ms.
    public var oldestWaitingMillis: Int64?
    /// Jobs finished per second over the last minute.
    public var recentRate: Double

    public init(
        queue: String, ready: Int, delayed: Int, inFlight: Int, dead: Int, consumers: Int,
        oldestWaitingMillis: Int64?, recentRate: Double
    ) {
        self.queue = queue
        self.ready = ready
        self.delayed = delayed
        self.inFlight = inFlight
        self.dead = dead
        self.consumers = consumers
        self.oldestWaitingMillis = oldestWaitingMillis
        self.recentRate = recentRate
    }
}

/// What a consumer says of itself in its heartbeat.
public struct ConsumerInfo: Sendable, Equatable, Codable {
    public var name: String
    public var host: String
    public var pid: Int32
    public var startedAt: Int64
    public var concurrency: Int
    public var inFlight: Int
    public var processed: Int
    /// How long this consumer's jobs stay leased without a renewal (its visibility timeout, ms).
    /// Others reclaim its jobs only after that, whatever their own timeout.
    public var leaseMillis: Int64?
    /// The job kinds it can run; a job of another kind is left for a consumer that can.
    public var kinds: [String]?

    public init(
        name: String, host: String, pid: Int32, startedAt: Int64, concurrency: Int, inFlight: Int, processed: Int,
        leaseMillis: Int64? = nil, kinds: [String]? = nil
    ) {
        self.name = name
        self.host = host
        self.pid = pid
        self.startedAt = startedAt
        self.concurrency = concurrency
        self.inFlight = inFlight
        self.processed = processed
        self.leaseMillis = leaseMillis
        self.kinds = kinds
    }
}

/// A consumer as the CLI lists it.
public struct ConsumerStatus: Sendable, Equatable, Codable {
    public var info: ConsumerInfo
    public var lastBeat: Int64
    /// Jobs it holds in the stream's pending list.
    public var pending: Int

    public init(info: ConsumerInfo, lastBeat: Int64, pending: Int) {
        self.info = info
        self.lastBeat = lastBeat
        self.pending = pending
    }
}
