import Foundation
import Synchronization

/// A driver that keeps everything in process memory, for tests and local tools.
///
/// It obeys the same contract as `RedisQueueDriver` (one test suite runs against both).
/// Time comes from its clock, so a test can move it by hand; a consumer that "crashes" is one
/// that fetched jobs and never completed them: they become reclaimable after the idle time.
public final class MemoryQueueDriver: FullJobQueueDriver, RawEntryDriver, EntryOwnershipDriver {
    public let clock: any JobClock
    public let statusRetention: Duration
    public let deadStatusRetention: Duration
    public let idempotencyRetention: Duration
    /// Most entries kept per dead-letter queue; zero keeps every one.
    public let deadLetterLimit: Int
    let state = Mutex(State())

    public init(
        clock: any JobClock = SystemJobClock(), statusRetention: Duration = .seconds(86_400),
        deadStatusRetention: Duration = .seconds(14 * 86_400), idempotencyRetention: Duration = .seconds(86_400),
        deadLetterLimit: Int = 100_000
    ) {
        self.clock = clock
        self.deadLetterLimit = deadLetterLimit
        self.statusRetention = statusRetention
        self.deadStatusRetention = deadStatusRetention
        self.idempotencyRetention = idempotencyRetention
    }

    typealias Fields = [(String, [UInt8])]

    struct Pending {
        var consumer: String
        var since: Int64
        var deliveries: Int
    }

    struct Status {
        var fields: [String: String]
        var expiresAt: Int64?
    }

    struct Queue {
        var stream: [String: Fields] = [:]
        /// Entry ids in stream order not yet delivered.
        var undelivered: [String] = []
        var pending: [String: Pending] = [:]
        /// Delivery counts survive only while pending, as in a Redis pending-entries list.
        var delayed: [String: (due: Int64, fields: Fields)] = [:]
        var dead: [(id: String, fields: Fields)] = []
        /// Dead letters dropped at the cap.
        var deadDropped = 0
        /// Each consumer's lease (ms); kept while it holds entries, as in Redis.
        var leases: [String: Int64] = [:]
        var jobs: [String: Status] = [:]
        var idempotency: [String: (id: String, expiresAt: Int64, fingerprint: String?)] = [:]
        var consumers: [String: (info: ConsumerInfo, beat: Int64)] = [:]
        var finished: [Int64] = []
        var lastEntry: (ms: Int64, seq: Int64) = (0, 0)

        mutating func nextEntryID(now: Int64) -> String {
            if now > lastEntry.ms { lastEntry = (now, 0) } else { lastEntry.seq += 1 }
            return "\(lastEntry.ms)-\(lastEntry.seq)"
        }

        mutating func status(_ id: String, now: Int64) -> [String: String]? {
            guard let s = jobs[id] else { return nil }
            if let exp = s.expiresAt, exp <= now {
                jobs[id] = nil
                return nil
            }
            return s.fields
        }

        mutating func addDead(_ fields: Fields, now: Int64, limit: Int) -> String {
            let did = nextEntryID(now: now)
            dead.append((did, fields))
            if limit > 0, dead.count > limit {
                deadDropped += dead.count - limit
                dead.removeFirst(dead.count - limit)
            }
            return did
        }

        mutating func setStatus(_ id: String, _ values: [String: String], expiresAt: Int64? = nil, keepExpiry: Bool = false) {
            var s = jobs[id] ?? Status(fields: [:], expiresAt: nil)
            s.fields.merge(values) { _, new in new }
            if !keepExpiry { s.expiresAt = expiresAt }
            jobs[id] = s
        }
    }

    struct State {
        var queues: [QueueName: Queue] = [:]
    }

    func withQueue<R>(_ name: QueueName, _ body: (inout Queue) throws -> R) rethrows -> R {
        try state.withLock { state in
            if state.queues[name] == nil { state.queues[name] = Queue() }
            return try body(&state.queues[name]!)
        }
    }

    /// Adds an entry with arbitrary fields, as a foreign producer's plain XADD would.
    @discardableResult
    public func appendRaw(queue: QueueName, fields: [(String, String)]) -> String {
        let now = clock.nowMillis()
        return withQueue(queue) { q in
            let id = q.nextEntryID(now: now)
            q.stream[id] = fields.map { ($0.0, Array($0.1.utf8)) }
            q.undelivered.append(id)
            return id
        }
    }

    // MARK: JobQueueDriver

    public func prepare(queue: QueueName) async throws {
        withQueue(queue) { _ in }
    }

    public func enqueue(_ jobs: [JobEnvelope], queue: QueueName) async throws -> [EnqueueResult] {
        let now = clock.nowMillis()
        let idemTTL = idempotencyRetention.milliseconds
        return withQueue(queue) { q in
            jobs.map { job in
                if let key = job.idempotencyKey {
                    if let seen = q.idempotency[key], seen.expiresAt > now {
                        let differs = job.idempotencyFingerprint.map { mine in seen.fingerprint.map { $0 != mine } ?? false } ?? false
                        return EnqueueResult(id: JobID(rawValue: seen.id), duplicate: true, fingerprintDiffers: differs)
                    }
                    q.idempotency[key] = (job.id.rawValue, now + idemTTL, job.idempotencyFingerprint)
                }
                let id = job.id.rawValue
                if let due = job.notBefore, due > now {
                    q.delayed[id] = (due, job.fields())
                    q.setStatus(id, ["status": "scheduled", "due": "\(due)", "updated_at": "\(now)", "kind": job.kind])
                } else {
                    let sid = q.nextEntryID(now: now)
                    q.stream[sid] = job.fields()
                    q.undelivered.append(sid)
                    q.setStatus(id, ["status": "queued", "sid": sid, "kind": job.kind])
                }
                if let owner = job.owner { q.setStatus(id, ["owner": owner], keepExpiry: true) }
                return EnqueueResult(id: job.id, duplicate: false)
            }
        }
    }

    public func fetch(queue: QueueName, consumer: String, maxCount: Int, blockFor: Duration) async throws -> [FetchedJob] {
        let deadline = ContinuousClock.now + blockFor
        while true {
            let jobs = try takeReady(queue: queue, consumer: consumer, maxCount: maxCount)
            if !jobs.isEmpty || ContinuousClock.now >= deadline { return jobs }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    private func takeReady(queue: QueueName, consumer: String, maxCount: Int) throws -> [FetchedJob] {
        let now = clock.nowMillis()
        return withQueue(queue) { q in
            var out: [FetchedJob] = []
            while out.count < maxCount, !q.undelivered.isEmpty {
                let sid = q.undelivered.removeFirst()
                guard let fields = q.stream[sid] else { continue }
                do {
                    let envelope = try JobEnvelope(fields: fields, entryMillis: Self.millis(sid))
                    q.pending[sid] = Pending(consumer: consumer, since: now, deliveries: 1)
                    out.append(FetchedJob(queue: queue, entryID: sid, envelope: envelope, deliveries: 1, consumer: consumer))
                } catch {
                    q.stream[sid] = nil
                    _ = q.addDead(
                        Self.deadFields(
                            reason: .undecodable, message: "undecodable: \(error)", now: now,
                            fields: DeadLetter.rawFields(fields)), now: now, limit: deadLetterLimit)
                }
            }
            return out
        }
    }

    public func reclaim(
        queue: QueueName, consumer: String, idleFor: Duration, maxCount: Int, maxDeliveries: Int
    ) async throws -> ReclaimResult {
        let now = clock.nowMillis()
        let deadTTL = deadStatusRetention.milliseconds
        let limit = deadLetterLimit
        return withQueue(queue) { q in
            var result = ReclaimResult()
            for sid in q.pending.keys.sorted(by: Self.entryOrder) where result.jobs.count < maxCount {
                guard var p = q.pending[sid] else { continue }
                // The owner's lease decides, not the reclaimer's visibility timeout.
                let lease = q.leases[p.consumer] ?? idleFor.milliseconds
                guard now - p.since >= lease else { continue }
                guard let fields = q.stream[sid] else {
                    q.pending[sid] = nil
                    continue
                }
                p.consumer = consumer
                p.since = now
                p.deliveries += 1
                if p.deliveries > maxDeliveries {
                    q.pending[sid] = nil
                    q.stream[sid] = nil
                    let message = "delivered \(p.deliveries) times without finishing"
                    let kept = Array(fields.prefix(256))
                    let did = q.addDead(Self.deadFields(reason: .poison, message: message, now: now, fields: kept), now: now, limit: limit)
                    if let jid = fields.first(where: { $0.0 == JobEnvelope.Field.id }).map({ String(decoding: $0.1, as: UTF8.self) }) {
                        q.setStatus(
                            jid,
                            [
                                "status": "dead", "dead_id": did, "dead_reason": DeadReason.poison.rawValue, "error": message,
                                "updated_at": "\(now)",
                            ],
                            expiresAt: now + deadTTL)
                    }
                    if let envelope = try? JobEnvelope(fields: kept, entryMillis: Self.millis(sid)) {
                        result.poisoned.append(
                            FetchedJob(
                                queue: queue, entryID: sid, envelope: envelope, deliveries: p.deliveries, consumer: consumer))
                    }
                    continue
                }
                do {
                    let envelope = try JobEnvelope(fields: fields, entryMillis: Self.millis(sid))
                    q.pending[sid] = p
                    result.jobs.append(
                        FetchedJob(queue: queue, entryID: sid, envelope: envelope, deliveries: p.deliveries, consumer: consumer))
                } catch {
                    q.pending[sid] = nil
                    q.stream[sid] = nil
                    _ = q.addDead(
                        Self.deadFields(
                            reason: .undecodable, message: "undecodable: \(error)", now: now,
                            fields: DeadLetter.rawFields(fields)), now: now, limit: limit)
                }
            }
            return result
        }
    }

    public func renew(queue: QueueName, consumer: String, entryIDs: [String]) async throws {
        let now = clock.nowMillis()
        withQueue(queue) { q in
            for sid in entryIDs where q.pending[sid]?.consumer == consumer { q.pending[sid]?.since = now }
        }
    }

    public func holder(of job: FetchedJob) async throws -> String? {
        withQueue(job.queue) { q in q.pending[job.entryID]?.consumer }
    }

    public func complete(_ completions: [JobCompletion], queue: QueueName) async throws {
        let now = clock.nowMillis()
        let keep = statusRetention.milliseconds
        let deadKeep = deadStatusRetention.milliseconds
        let limit = deadLetterLimit
        withQueue(queue) { q in
            for completion in completions {
                let sid = completion.job.entryID
                // Only the entry's current owner settles it: after a takeover a late outcome changes nothing.
                guard q.pending[sid]?.consumer == completion.job.consumer else { continue }
                q.pending[sid] = nil
                q.stream[sid] = nil
                let jid = completion.job.envelope.id.rawValue
                let next = completion.nextEnvelope
                switch completion.outcome {
                case .succeeded:
                    if keep > 0 {
                        q.setStatus(jid, ["status": "succeeded", "updated_at": "\(now)"], expiresAt: now + keep)
                    } else {
                        q.jobs[jid] = nil
                    }
                    q.finished.append(now)
                case .rejected(let reason):
                    if keep > 0 {
                        q.setStatus(jid, ["status": "rejected", "error": reason, "updated_at": "\(now)"], expiresAt: now + keep)
                    } else {
                        q.jobs[jid] = nil
                    }
                    q.finished.append(now)
                case .retry(let at, let error):
                    q.delayed[jid] = (at, next.fields())
                    q.setStatus(
                        jid,
                        [
                            "status": "retrying", "due": "\(at)", "updated_at": "\(now)", "error": error.error,
                            "attempt": "\(next.attempt)",
                        ])
                case .snooze(let at, _):
                    q.delayed[jid] = (at, next.fields())
                    q.setStatus(
                        jid,
                        [
                            "status": "scheduled", "due": "\(at)", "updated_at": "\(now)", "error": "",
                            "attempt": "\(next.attempt)",
                        ])
                case .dead(let reason, let error):
                    let did = q.addDead(
                        Self.deadFields(reason: reason, message: error.error, now: now, fields: next.fields()), now: now, limit: limit)
                    q.setStatus(
                        jid,
                        ["status": "dead", "dead_id": did, "dead_reason": reason.rawValue, "error": error.error, "updated_at": "\(now)"],
                        expiresAt: now + deadKeep)
                }
            }
            q.finished.removeAll { $0 < now - 70_000 }
        }
    }

    // MARK: DelayedJobDriver

    public func promoteDue(queue: QueueName, limit: Int) async throws -> PromoteResult {
        let now = clock.nowMillis()
        return withQueue(queue) { q in
            let due = q.delayed.filter { $0.value.due <= now }
                .sorted { ($0.value.due, $0.key) < ($1.value.due, $1.key) }
                .prefix(limit)
            for (id, item) in due {
                let sid = q.nextEntryID(now: now)
                q.stream[sid] = item.fields
                q.undelivered.append(sid)
                q.delayed[id] = nil
                q.setStatus(id, ["status": "queued", "sid": sid, "updated_at": "\(now)"], keepExpiry: true)
            }
            return PromoteResult(promoted: due.count, nextDue: q.delayed.values.map(\.due).min())
        }
    }

    // MARK: JobStatusDriver

    public func job(_ id: JobID, queue: QueueName?) async throws -> JobRecord? {
        let now = clock.nowMillis()
        return state.withLock { state -> JobRecord? in
            let names = queue.map { [$0] } ?? state.queues.keys.sorted()
            for name in names {
                guard var q = state.queues[name], let fields = q.status(id.rawValue, now: now) else { continue }
                guard var status = fields["status"].flatMap(JobStatus.init(rawValue:)) else { continue }
                var record = JobRecord(id: id, queue: name, status: status)
                record.attempt = fields["attempt"].flatMap { Int($0) }
                record.dueAt = fields["due"].flatMap { Int64($0) }
                record.updatedAt = fields["updated_at"].flatMap { Int64($0) }
                record.lastError = fields["error"].flatMap { $0.isEmpty ? nil : $0 }
                record.deadLetterID = fields["dead_id"]
                record.deadReason = fields["dead_reason"].map(DeadReason.init(rawValue:))
                if status == .queued, let sid = fields["sid"] {
                    if let p = q.pending[sid] {
                        status = .running
                        record.consumer = p.consumer
                    }
                    record.envelope = q.stream[sid].flatMap { try? JobEnvelope(fields: $0, entryMillis: Self.millis(sid)) }
                } else if status == .scheduled || status == .retrying {
                    record.envelope = q.delayed[id.rawValue].flatMap { try? JobEnvelope(fields: $0.fields) }
                }
                record.status = status
                record.kind = fields["kind"] ?? record.envelope?.kind
                record.owner = fields["owner"] ?? record.envelope?.owner
                if record.attempt == nil { record.attempt = record.envelope?.attempt }
                state.queues[name] = q
                return record
            }
            return nil
        }
    }

    public func cancel(_ id: JobID, queue: QueueName?) async throws -> CancelResult {
        let now = clock.nowMillis()
        let keep = statusRetention.milliseconds
        return state.withLock { state -> CancelResult in
            let names = queue.map { [$0] } ?? state.queues.keys.sorted()
            for name in names {
                guard var q = state.queues[name], let fields = q.status(id.rawValue, now: now),
                    let status = fields["status"].flatMap(JobStatus.init(rawValue:))
                else { continue }
                defer { state.queues[name] = q }
                let cancelled = ["status": "cancelled", "updated_at": "\(now)"]
                switch status {
                case .scheduled, .retrying:
                    guard q.delayed.removeValue(forKey: id.rawValue) != nil else { return .notCancellable(status) }
                    q.setStatus(id.rawValue, cancelled, expiresAt: now + keep)
                    return .cancelled
                case .queued:
                    guard let sid = fields["sid"], q.pending[sid] == nil, q.stream[sid] != nil else {
                        return .notCancellable(.running)
                    }
                    q.stream[sid] = nil
                    q.undelivered.removeAll { $0 == sid }
                    q.setStatus(id.rawValue, cancelled, expiresAt: now + keep)
                    return .cancelled
                default:
                    return .notCancellable(status)
                }
            }
            return .notFound
        }
    }
}
