import Foundation
import Jobs
import Logging
import Synchronization

/// The production driver: jobs in Redis streams read through one consumer group per queue.
///
/// Commands go through one pipelined connection; each (queue, consumer) pair that blocks in
/// XREADGROUP gets a connection of its own, so a blocked read never holds up acks.
public final class RedisQueueDriver: FullJobQueueDriver, ReaderReleasingDriver, RawEntryDriver, EntryOwnershipDriver {
    public struct Configuration: Sendable {
        public var redis: RedisConfiguration
        public var keys: RedisKeys
        /// How long a finished job's status stays readable. Zero keeps no record of successes.
        public var statusRetention: Duration
        /// How long a dead job's status stays readable by job id.
        public var deadStatusRetention: Duration
        /// How long an idempotency key maps to its first job.
        public var idempotencyRetention: Duration
        /// Jobs per EVALSHA when enqueuing in bulk; the calls of one bulk enqueue share a pipeline.
        public var enqueueChunk: Int
        /// How long a non-blocking command may wait for its reply before the connection is
        /// dropped; the HTTP front keeps it short so a hung Redis gives a quick 503.
        public var commandTimeout: Duration = .seconds(10)
        /// Most entries kept per dead-letter stream; older ones are dropped, counted and logged.
        /// Zero keeps every one.
        public var deadLetterLimit: Int = 100_000

        public init(
            redis: RedisConfiguration, keys: RedisKeys = RedisKeys(), statusRetention: Duration = .seconds(86_400),
            deadStatusRetention: Duration = .seconds(14 * 86_400), idempotencyRetention: Duration = .seconds(86_400),
            enqueueChunk: Int = 256
        ) {
            self.redis = redis
            self.keys = keys
            self.statusRetention = statusRetention
            self.deadStatusRetention = deadStatusRetention
            self.idempotencyRetention = idempotencyRetention
            self.enqueueChunk = enqueueChunk
        }
    }

    public let configuration: Configuration
    public var keys: RedisKeys { configuration.keys }
    let clock: any JobClock
    let logger: Logger
    /// The shared connection for every non-blocking command.
    public let connection: RedisConnection
    private let readers = Mutex<[String: RedisConnection]>([:])

    public init(configuration: Configuration, clock: any JobClock = SystemJobClock(), logger: Logger = Logger(label: "thepred.redis")) {
        var configuration = configuration
        // PX 0 is an error in Redis; a key must live at least a millisecond.
        configuration.idempotencyRetention = max(configuration.idempotencyRetention, .milliseconds(1))
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        connection = RedisConnection(configuration.redis, name: "redis-commands", commandTimeout: configuration.commandTimeout)
    }

    deinit {
        connection.close()
        for reader in readers.withLock({ Array($0.values) }) { reader.close() }
    }

    private func reader(queue: QueueName, consumer: String) -> RedisConnection {
        readers.withLock { readers in
            let key = "\(queue.rawValue)/\(consumer)"
            if let existing = readers[key] { return existing }
            let made = RedisConnection(configuration.redis, name: "redis-read-\(queue.rawValue)", timesRoundTrips: false)
            readers[key] = made
            return made
        }
    }

    @discardableResult
    public func appendRaw(queue: QueueName, fields: [(String, String)]) async throws -> String {
        var command = RedisCommand("XADD", keys.stream(queue), "*")
        for (name, value) in fields {
            command.append(name)
            command.append(value)
        }
        return try await connection.send(command).string ?? ""
    }

    /// Closes the blocking connection of a consumer that stopped.
    public func releaseReader(queue: QueueName, consumer: String) {
        let reader = readers.withLock { $0.removeValue(forKey: "\(queue.rawValue)/\(consumer)") }
        reader?.close()
    }

    /// Fails unless Redis answers PING.
    public func ping() async throws {
        try await connection.send("PING")
    }

    let serverChecked = Mutex(false)

    // MARK: JobQueueDriver

    public func prepare(queue: QueueName) async throws {
        try await checkServerVersion()
        let replies = try await connection.pipeline([
            RedisCommand("XGROUP", "CREATE", keys.stream(queue), keys.group, "0", "MKSTREAM"),
            RedisCommand("SADD", keys.queues, queue.rawValue),
        ])
        if case .error(let message) = replies[0], !message.hasPrefix("BUSYGROUP") {
            throw RedisError.server(message)
        }
        try replies[1].throwingError()
    }

    public func enqueue(_ jobs: [JobEnvelope], queue: QueueName) async throws -> [EnqueueResult] {
        if jobs.isEmpty { return [] }
        let now = clock.nowMillis()
        let scriptKeys = [keys.stream(queue), keys.delayed(queue), keys.delayedJobs(queue)]
        let head: [any RESPArgument] = [
            keys.jobPrefix(queue), keys.idempotencyPrefix(queue),
            configuration.idempotencyRetention.milliseconds, now,
        ]
        var calls: [ScriptCall] = []
        var start = 0
        while start < jobs.count {
            let end = min(start + configuration.enqueueChunk, jobs.count)
            var args = head
            args.reserveCapacity(head.count + (end - start) * 16)
            for job in jobs[start..<end] {
                let fields = job.fields()
                args.append(job.id.rawValue)
                args.append(job.idempotencyKey ?? "")
                args.append(job.idempotencyFingerprint ?? "")
                args.append(job.notBefore ?? 0)
                args.append(job.kind)
                args.append(job.owner ?? "")
                args.append(fields.count * 2)
                for (name, value) in fields {
                    args.append(name)
                    args.append(value)
                }
            }
            calls.append(ScriptCall(script: RedisScripts.enqueue, keys: scriptKeys, args: args))
            start = end
        }
        var results: [EnqueueResult] = []
        results.reserveCapacity(jobs.count)
        for reply in try await connection.evaluate(calls) {
            guard let ids = try reply.throwingError().array else {
                throw RedisError(code: .protocolError, message: "enqueue returned no list")
            }
            for id in ids {
                guard let text = id.string else { throw RedisError(code: .protocolError, message: "enqueue returned a non-string") }
                if text.hasPrefix("=") || text.hasPrefix("!") {
                    results.append(
                        EnqueueResult(
                            id: JobID(rawValue: String(text.dropFirst())), duplicate: true, fingerprintDiffers: text.hasPrefix("!")))
                } else {
                    results.append(EnqueueResult(id: JobID(rawValue: text), duplicate: false))
                }
            }
        }
        return results
    }

    public func fetch(queue: QueueName, consumer: String, maxCount: Int, blockFor: Duration) async throws -> [FetchedJob] {
        let reply: RESPValue
        do {
            reply = try await reader(queue: queue, consumer: consumer).send(
                "XREADGROUP", "GROUP", keys.group, consumer, "COUNT", maxCount,
                "BLOCK", max(1, blockFor.milliseconds), "STREAMS", keys.stream(queue), ">")
        } catch let error as RedisError where error.message.hasPrefix("NOGROUP") {
            // The stream went away (a flush or a Redis without persistence); make it again.
            try await prepare(queue: queue)
            return []
        }
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2,
            let entries = first[1].array
        else { return [] }
        var jobs: [FetchedJob] = []
        jobs.reserveCapacity(entries.count)
        var undecodable: [ScriptCall] = []
        for entry in entries {
            guard let parts = entry.array, parts.count == 2, let entryID = parts[0].string else { continue }
            let fields = Self.fieldPairs(parts[1])
            do {
                let envelope = try JobEnvelope(fields: fields, entryMillis: Self.millis(ofEntry: entryID))
                jobs.append(FetchedJob(queue: queue, entryID: entryID, envelope: envelope, deliveries: 1, consumer: consumer))
            } catch {
                logger.error("undecodable entry buried", metadata: ["queue": "\(queue)", "entry": "\(entryID)", "error": "\(error)"])
                undecodable.append(
                    buryCall(
                        queue: queue, consumer: consumer, entryID: entryID, jobID: nil, reason: .undecodable,
                        message: "undecodable: \(error)", fields: DeadLetter.rawFields(fields)))
            }
        }
        // The jobs decoded beside an undecodable entry must still start: a failed bury only leaves
        // that entry pending, to be reclaimed and buried again.
        do {
            try checkBuried(try await connection.evaluate(undecodable), queue: queue)
        } catch {
            logger.error(
                "burying undecodable entries failed; they will be reclaimed", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
        return jobs
    }

    public func reclaim(
        queue: QueueName, consumer: String, idleFor: Duration, maxCount: Int, maxDeliveries: Int
    ) async throws -> ReclaimResult {
        let reply = try await connection.evaluate(
            RedisScripts.reclaim, keys: [keys.stream(queue), keys.dead(queue), keys.leases(queue), keys.deadDropped(queue)],
            args: [
                keys.group, consumer, max(0, idleFor.milliseconds), maxCount, maxDeliveries, clock.nowMillis(),
                keys.jobPrefix(queue), configuration.deadStatusRetention.milliseconds, configuration.deadLetterLimit,
            ])
        guard let parts = reply.array, parts.count == 2 else {
            throw RedisError(code: .protocolError, message: "reclaim returned \(reply)")
        }
        var result = ReclaimResult()
        var undecodable: [ScriptCall] = []
        for item in parts[0].array ?? [] {
            guard let entry = item.array, entry.count == 3, let entryID = entry[0].string else { continue }
            let fields = Self.fieldPairs(entry[2])
            do {
                let envelope = try JobEnvelope(fields: fields, entryMillis: Self.millis(ofEntry: entryID))
                result.jobs.append(
                    FetchedJob(
                        queue: queue, entryID: entryID, envelope: envelope, deliveries: Int(entry[1].int ?? 1), consumer: consumer))
            } catch {
                undecodable.append(
                    buryCall(
                        queue: queue, consumer: consumer, entryID: entryID, jobID: nil, reason: .undecodable,
                        message: "undecodable: \(error)", fields: DeadLetter.rawFields(fields)))
            }
        }
        for item in parts[1].array ?? [] {
            guard let entry = item.array, entry.count == 3, let entryID = entry[0].string else { continue }
            logger.error("poison job buried", metadata: ["queue": "\(queue)", "entry": "\(entryID)", "deliveries": "\(entry[1].int ?? 0)"])
            if let envelope = try? JobEnvelope(fields: Self.fieldPairs(entry[2]), entryMillis: Self.millis(ofEntry: entryID)) {
                result.poisoned.append(
                    FetchedJob(
                        queue: queue, entryID: entryID, envelope: envelope, deliveries: Int(entry[1].int ?? 1), consumer: consumer))
            }
        }
        // The jobs decoded beside an undecodable entry must still start: a failed bury only leaves
        // that entry pending, to be reclaimed and buried again.
        do {
            try checkBuried(try await connection.evaluate(undecodable), queue: queue)
        } catch {
            logger.error(
                "burying undecodable entries failed; they will be reclaimed", metadata: ["queue": "\(queue)", "error": "\(error)"])
        }
        return result
    }

    public func renew(queue: QueueName, consumer: String, entryIDs: [String]) async throws {
        // Chunks keep each script's unpack well under Lua's limit of about 8,000 values.
        let calls = stride(from: 0, to: entryIDs.count, by: 1000).map { start in
            var args: [any RESPArgument] = [keys.group, consumer]
            args.append(contentsOf: entryIDs[start..<min(start + 1000, entryIDs.count)].map { $0 as any RESPArgument })
            return ScriptCall(script: RedisScripts.renew, keys: [keys.stream(queue)], args: args)
        }
        for reply in try await connection.evaluate(calls) { try reply.throwingError() }
    }

    public func complete(_ completions: [JobCompletion], queue: QueueName) async throws {
        if completions.isEmpty { return }
        let now = clock.nowMillis()
        let bucket = now - now % RedisKeys.rateBucketMillis
        let rateTTL = RedisKeys.rateBucketMillis * 7
        var calls: [ScriptCall] = []
        // Acks are batched per consumer: the script checks each entry is still that consumer's.
        var acks: [String: [FetchedJob]] = [:]
        func flushAcks(_ consumer: String) {
            guard let jobs = acks.removeValue(forKey: consumer), !jobs.isEmpty else { return }
            let order = jobs.map { Self.entryOrder($0.entryID) }
            var args: [any RESPArgument] = [
                keys.group, keys.jobPrefix(queue), configuration.statusRetention.milliseconds, now, rateTTL, consumer,
                jobs[order.indices.min { order[$0] < order[$1] }!].entryID,
                jobs[order.indices.max { order[$0] < order[$1] }!].entryID,
                // Room for the batch and for whatever else the consumer holds in its range.
                jobs.count * 2 + 1024,
            ]
            args.reserveCapacity(args.count + jobs.count * 2)
            for job in jobs {
                args.append(job.entryID)
                args.append(job.envelope.id.rawValue)
            }
            calls.append(
                ScriptCall(
                    script: RedisScripts.ack, keys: [keys.stream(queue), keys.rateBucket(queue, bucket: bucket)], args: args))
        }
        for completion in completions {
            let job = completion.job
            switch completion.outcome {
            case .succeeded:
                acks[job.consumer, default: []].append(job)
                if acks[job.consumer]!.count >= 500 { flushAcks(job.consumer) }
            case .rejected(let reason):
                calls.append(
                    ScriptCall(
                        script: RedisScripts.reject,
                        keys: [keys.stream(queue), keys.job(queue, job.envelope.id), keys.rateBucket(queue, bucket: bucket)],
                        args: [keys.group, job.consumer, job.entryID, now, reason, configuration.statusRetention.milliseconds, rateTTL]))
            case .retry(let at, let error):
                calls.append(rescheduleCall(completion, due: at, status: .retrying, error: error.error, now: now))
            case .snooze(let at, _):
                calls.append(rescheduleCall(completion, due: at, status: .scheduled, error: "", now: now))
            case .dead(let reason, let error):
                calls.append(
                    buryCall(
                        queue: queue, consumer: job.consumer, entryID: job.entryID, jobID: job.envelope.id, reason: reason,
                        message: error.error, fields: completion.nextEnvelope.fields()))
            }
        }
        for consumer in Array(acks.keys) { flushAcks(consumer) }
        try checkBuried(try await connection.evaluate(calls), of: calls, queue: queue)
    }

    private func rescheduleCall(_ completion: JobCompletion, due: Int64, status: JobStatus, error: String, now: Int64) -> ScriptCall {
        let job = completion.job
        let next = completion.nextEnvelope
        var args: [any RESPArgument] = [
            keys.group, job.entryID, job.envelope.id.rawValue, due, status.rawValue, now, error, next.attempt, job.consumer,
            mayMakeAgain,
        ]
        for (name, value) in next.fields() {
            args.append(name)
            args.append(value)
        }
        return ScriptCall(
            script: RedisScripts.reschedule,
            keys: [keys.stream(job.queue), keys.delayed(job.queue), keys.delayedJobs(job.queue), keys.job(job.queue, job.envelope.id)],
            args: args)
    }

    /// Whether a job with no holder and no status record was forgotten (its writes lost), and may be
    /// made again: only while finished jobs keep their records. With `--status-retention 0` a
    /// finished job has none either, and a late outcome of a run that lost its entry would run it twice.
    private var mayMakeAgain: String { configuration.statusRetention > .zero ? "1" : "0" }

    private func buryCall(
        queue: QueueName, consumer: String, entryID: String?, jobID: JobID?, reason: DeadReason, message: String,
        fields: [(String, [UInt8])]
    ) -> ScriptCall {
        var args: [any RESPArgument] = [
            keys.group, entryID ?? "", clock.nowMillis(), reason.rawValue, message,
            configuration.deadStatusRetention.milliseconds, consumer, configuration.deadLetterLimit, mayMakeAgain,
        ]
        for (name, value) in fields {
            args.append(name)
            args.append(value)
        }
        let statusKey = jobID.map { keys.job(queue, $0) } ?? keys.stream(queue)
        return ScriptCall(
            script: RedisScripts.bury, keys: [keys.stream(queue), keys.dead(queue), statusKey, keys.deadDropped(queue)], args: args)
    }

    /// Buries a job that never reached a stream, such as one a producer could not encode.
    public func bury(_ envelope: JobEnvelope, queue: QueueName, reason: DeadReason, message: String) async throws {
        try checkBuried(
            try await connection.evaluate([
                buryCall(
                    queue: queue, consumer: "", entryID: nil, jobID: envelope.id, reason: reason, message: message,
                    fields: envelope.fields())
            ]), queue: queue)
    }

    // MARK: DelayedJobDriver

    public func promoteDue(queue: QueueName, limit: Int) async throws -> PromoteResult {
        let reply = try await connection.evaluate(
            RedisScripts.promote, keys: [keys.stream(queue), keys.delayed(queue), keys.delayedJobs(queue)],
            args: [clock.nowMillis(), limit, keys.jobPrefix(queue)])
        guard let parts = reply.array, parts.count == 2 else {
            throw RedisError(code: .protocolError, message: "promote returned \(reply)")
        }
        return PromoteResult(promoted: Int(parts[0].int ?? 0), nextDue: parts[1].int)
    }
}
