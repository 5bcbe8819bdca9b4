import Foundation
import Logging
import Synchronization

/// The production driver: jobs in Redis streams read through one consumer group per queue.
///
/// Commands go through one pipelined connection; each (queue, consumer) pair that blocks in
/// XREADGROUP gets a connection of its own, so a blocked read never holds up acks.
public final class RedisQueueDriver: FullJobQueueDriver {
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
            let made = RedisConnection(configuration.redis, name: "redis-read-\(queue.rawValue)")
            readers[key] = made
            return made
        }
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

    // MARK: JobQueueDriver

    public func prepare(queue: QueueName) async throws {
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
                args.append(job.notBefore ?? 0)
                args.append(job.kind)
                args.append(job.owner ?? "")
                args.append(fields.count * 2)
                for (name, value) in fields {
                    args.append(name)
                    args.append(value)
                }
            }
            calls.append(ScriptCall(script: Scripts.enqueue, keys: scriptKeys, args: args))
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
                if text.hasPrefix("=") {
                    results.append(EnqueueResult(id: JobID(rawValue: String(text.dropFirst())), duplicate: true))
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
                jobs.append(FetchedJob(queue: queue, entryID: entryID, envelope: envelope, deliveries: 1))
            } catch {
                logger.error("undecodable entry buried", metadata: ["queue": "\(queue)", "entry": "\(entryID)", "error": "\(error)"])
                undecodable.append(buryCall(
                    queue: queue, entryID: entryID, jobID: nil, reason: .undecodable, message: "undecodable: \(error)",
                    fields: fields.map { ("raw." + $0.0, $0.1) }))
            }
        }
        for reply in try await connection.evaluate(undecodable) { try reply.throwingError() }
        return jobs
    }

    public func reclaim(
        queue: QueueName, consumer: String, idleFor: Duration, maxCount: Int, maxDeliveries: Int
    ) async throws -> [FetchedJob] {
        let reply = try await connection.evaluate(
            Scripts.reclaim, keys: [keys.stream(queue), keys.dead(queue)],
            args: [
                keys.group, consumer, max(0, idleFor.milliseconds), maxCount, maxDeliveries, clock.nowMillis(),
                keys.jobPrefix(queue), configuration.deadStatusRetention.milliseconds,
            ])
        var jobs: [FetchedJob] = []
        for item in reply.array ?? [] {
            guard let parts = item.array, parts.count == 3, let entryID = parts[0].string else { continue }
            let deliveries = Int(parts[1].int ?? 1)
            let fields = Self.fieldPairs(parts[2])
            do {
                let envelope = try JobEnvelope(fields: fields, entryMillis: Self.millis(ofEntry: entryID))
                jobs.append(FetchedJob(queue: queue, entryID: entryID, envelope: envelope, deliveries: deliveries))
            } catch {
                try await connection.evaluate([buryCall(
                    queue: queue, entryID: entryID, jobID: nil, reason: .undecodable, message: "undecodable: \(error)",
                    fields: fields.map { ("raw." + $0.0, $0.1) })])[0].throwingError()
            }
        }
        return jobs
    }

    public func renew(queue: QueueName, consumer: String, entryIDs: [String]) async throws {
        // Chunks keep each script's unpack well under Lua's limit of about 8,000 values.
        let calls = stride(from: 0, to: entryIDs.count, by: 1000).map { start in
            var args: [any RESPArgument] = [keys.group, consumer]
            args.append(contentsOf: entryIDs[start..<min(start + 1000, entryIDs.count)].map { $0 as any RESPArgument })
            return ScriptCall(script: Scripts.renew, keys: [keys.stream(queue)], args: args)
        }
        for reply in try await connection.evaluate(calls) { try reply.throwingError() }
    }

    public func complete(_ completions: [JobCompletion], queue: QueueName) async throws {
        if completions.isEmpty { return }
        let now = clock.nowMillis()
        var calls: [ScriptCall] = []
        var acks: [any RESPArgument] = []
        func flushAcks() {
            guard !acks.isEmpty else { return }
            let bucket = now - now % RedisKeys.rateBucketMillis
            var args: [any RESPArgument] = [
                keys.group, keys.jobPrefix(queue), configuration.statusRetention.milliseconds, now,
                RedisKeys.rateBucketMillis * 7,
            ]
            args.append(contentsOf: acks)
            calls.append(ScriptCall(
                script: Scripts.ack, keys: [keys.stream(queue), keys.rateBucket(queue, bucket: bucket)], args: args))
            acks.removeAll(keepingCapacity: true)
        }
        for completion in completions {
            let job = completion.job
            switch completion.outcome {
            case .succeeded:
                acks.append(job.entryID)
                acks.append(job.envelope.id.rawValue)
                if acks.count >= 1000 { flushAcks() }
            case .retry(let at, let error):
                calls.append(rescheduleCall(completion, due: at, status: .retrying, error: error.error, now: now))
            case .snooze(let at):
                calls.append(rescheduleCall(completion, due: at, status: .scheduled, error: "", now: now))
            case .dead(let reason, let error):
                calls.append(buryCall(
                    queue: queue, entryID: job.entryID, jobID: job.envelope.id, reason: reason, message: error.error,
                    fields: completion.nextEnvelope.fields()))
            }
        }
        flushAcks()
        for reply in try await connection.evaluate(calls) { try reply.throwingError() }
    }

    private func rescheduleCall(_ completion: JobCompletion, due: Int64, status: JobStatus, error: String, now: Int64) -> ScriptCall {
        let job = completion.job
        let next = completion.nextEnvelope
        var args: [any RESPArgument] = [
            keys.group, job.entryID, job.envelope.id.rawValue, due, status.rawValue, now, error, next.attempt,
        ]
        for (name, value) in next.fields() {
            args.append(name)
            args.append(value)
        }
        return ScriptCall(
            script: Scripts.reschedule,
            keys: [keys.stream(job.queue), keys.delayed(job.queue), keys.delayedJobs(job.queue), keys.job(job.queue, job.envelope.id)],
            args: args)
    }

    private func buryCall(
        queue: QueueName, entryID: String?, jobID: JobID?, reason: DeadReason, message: String, fields: [(String, [UInt8])]
    ) -> ScriptCall {
        var args: [any RESPArgument] = [
            keys.group, entryID ?? "", clock.nowMillis(), reason.rawValue, message,
            configuration.deadStatusRetention.milliseconds,
        ]
        for (name, value) in fields {
            args.append(name)
            args.append(value)
        }
        let statusKey = jobID.map { keys.job(queue, $0) } ?? keys.stream(queue)
        return ScriptCall(script: Scripts.bury, keys: [keys.stream(queue), keys.dead(queue), statusKey], args: args)
    }

    /// Buries a job that never reached a stream, such as one a producer could not encode.
    public func bury(_ envelope: JobEnvelope, queue: QueueName, reason: DeadReason, message: String) async throws {
        try await connection.evaluate([buryCall(
            queue: queue, entryID: nil, jobID: envelope.id, reason: reason, message: message, fields: envelope.fields())
        ])[0].throwingError()
    }

    // MARK: DelayedJobDriver

    public func promoteDue(queue: QueueName, limit: Int) async throws -> PromoteResult {
        let reply = try await connection.evaluate(
            Scripts.promote, keys: [keys.stream(queue), keys.delayed(queue), keys.delayedJobs(queue)],
            args: [clock.nowMillis(), limit, keys.jobPrefix(queue)])
        guard let parts = reply.array, parts.count == 2 else {
            throw RedisError(code: .protocolError, message: "promote returned \(reply)")
        }
        return PromoteResult(promoted: Int(parts[0].int ?? 0), nextDue: parts[1].int)
    }

    // MARK: Helpers

    /// Stream fields, alternating names and values, as pairs.
    static func fieldPairs(_ value: RESPValue) -> [(String, [UInt8])] {
        guard let items = value.array else { return [] }
        var pairs: [(String, [UInt8])] = []
        pairs.reserveCapacity(items.count / 2)
        var i = 0
        while i + 1 < items.count {
            if case .bytes(let name) = items[i], case .bytes(let v) = items[i + 1] {
                pairs.append((String(decoding: name, as: UTF8.self), v))
            }
            i += 2
        }
        return pairs
    }

    /// The milliseconds part of a stream id such as `1700000000000-3`.
    static func millis(ofEntry id: String) -> Int64? {
        guard let dash = id.firstIndex(of: "-") else { return Int64(id) }
        return Int64(id[..<dash])
    }

    /// Decodes the JSON array of field names and values kept for delayed jobs.
    static func decodeStoredFields(_ json: [UInt8]) -> [(String, [UInt8])]? {
        guard let flat = try? JSONDecoder().decode([String].self, from: Data(json)) else { return nil }
        var pairs: [(String, [UInt8])] = []
        var i = 0
        while i + 1 < flat.count {
            pairs.append((flat[i], Array(flat[i + 1].utf8)))
            i += 2
        }
        return pairs
    }
}
