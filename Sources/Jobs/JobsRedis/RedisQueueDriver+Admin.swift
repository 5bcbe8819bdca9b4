import Foundation
import Jobs

extension RedisQueueDriver {
    // MARK: JobStatusDriver

    public func job(_ id: JobID, queue: QueueName?) async throws -> JobRecord? {
        guard let queue = try await queueHolding(id, in: queue) else { return nil }
        let hash = try await connection.send("HGETALL", keys.job(queue, id))
        let fields = Dictionary(Self.fieldPairs(hash).map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }) { a, _ in a }
        guard let statusText = fields["status"], var status = JobStatus(rawValue: statusText) else { return nil }
        var record = JobRecord(id: id, queue: queue, status: status)
        record.attempt = fields["attempt"].flatMap { Int($0) }
        record.dueAt = fields["due"].flatMap { Int64($0) }
        record.updatedAt = fields["updated_at"].flatMap { Int64($0) }
        record.lastError = fields["error"].flatMap { $0.isEmpty ? nil : $0 }
        record.deadLetterID = fields["dead_id"]
        record.deadReason = fields["dead_reason"].map(DeadReason.init(rawValue:))
        record.kind = fields["kind"]
        record.owner = fields["owner"]
        switch status {
        case .queued:
            guard let sid = fields["sid"] else { break }
            let replies = try await connection.pipeline([
                RedisCommand("XPENDING", keys.stream(queue), keys.group, sid, sid, 1),
                RedisCommand("XRANGE", keys.stream(queue), sid, sid),
            ])
            if let pending = replies[0].array?.first?.array, pending.count >= 2 {
                status = .running
                record.consumer = pending[1].string
            }
            if let entry = replies[1].array?.first?.array, entry.count == 2 {
                record.envelope = try? JobEnvelope(fields: Self.fieldPairs(entry[1]), entryMillis: Self.millis(ofEntry: sid))
            }
            record.status = status
        case .scheduled, .retrying:
            if case .bytes(let stored) = try await connection.send("HGET", keys.delayedJobs(queue), id.rawValue),
                let pairs = Self.decodeStoredFields(stored)
            {
                record.envelope = try? JobEnvelope(fields: pairs)
            }
        default:
            break
        }
        if record.kind == nil { record.kind = record.envelope?.kind }
        if record.owner == nil { record.owner = record.envelope?.owner }
        if record.attempt == nil { record.attempt = record.envelope?.attempt }
        return record
    }

    public func cancel(_ id: JobID, queue: QueueName?) async throws -> CancelResult {
        guard let queue = try await queueHolding(id, in: queue) else { return .notFound }
        let reply = try await connection.evaluate(
            RedisScripts.cancel,
            keys: [keys.stream(queue), keys.delayed(queue), keys.delayedJobs(queue), keys.job(queue, id)],
            args: [keys.group, id.rawValue, clock.nowMillis(), configuration.statusRetention.milliseconds])
        switch reply.string {
        case "ok": return .cancelled
        case "missing", nil: return .notFound
        case let other?: return .notCancellable(JobStatus(rawValue: other) ?? .running)
        }
    }

    /// The queue whose status hash holds the job: the given one, or the first known queue that has it.
    private func queueHolding(_ id: JobID, in queue: QueueName?) async throws -> QueueName? {
        let candidates: [QueueName]
        if let queue { candidates = [queue] } else { candidates = try await knownQueues() }
        if candidates.isEmpty { return nil }
        let replies = try await connection.pipeline(candidates.map { RedisCommand("EXISTS", keys.job($0, id)) })
        for (candidate, reply) in zip(candidates, replies) where try reply.throwingError().int == 1 {
            return candidate
        }
        return nil
    }

    // MARK: DeadLetterDriver

    public func deadLetters(queue: QueueName, filter: DeadLetterFilter) async throws -> [DeadLetter] {
        var out: [DeadLetter] = []
        var end = "+"
        let start = filter.since.map { String($0) } ?? "-"
        let page = max(100, min(filter.limit, 1000))
        while out.count < filter.limit {
            let reply = try await connection.send("XREVRANGE", keys.dead(queue), end, start, "COUNT", page)
            guard let entries = reply.array, !entries.isEmpty else { break }
            for entry in entries {
                guard let letter = Self.deadLetter(entry, queue: queue) else { continue }
                end = "(" + letter.id
                if filter.matches(letter) { out.append(letter) }
                if out.count >= filter.limit { break }
            }
            if entries.count < page { break }
        }
        return out
    }

    public func deadLetter(_ id: String, queue: QueueName) async throws -> DeadLetter? {
        var entryID = id
        if JobID.looksValid(id) {
            guard let deadID = try await connection.send("HGET", keys.job(queue, JobID(rawValue: id)), "dead_id").string else {
                return nil
            }
            entryID = deadID
        }
        guard Self.isStreamID(entryID) else { return nil }
        let reply = try await connection.send("XRANGE", keys.dead(queue), entryID, entryID)
        return reply.array?.first.flatMap { Self.deadLetter($0, queue: queue) }
    }

    public func redrive(_ ids: [String], queue: QueueName) async throws -> [RedriveResult] {
        var results: [RedriveResult] = []
        for id in ids {
            guard let letter = try await deadLetter(id, queue: queue) else {
                results.append(RedriveResult(deadLetterID: id, jobID: nil, error: "not in the dead-letter queue of \(queue)"))
                continue
            }
            guard let envelope = letter.envelope?.redriven() else {
                results.append(RedriveResult(deadLetterID: letter.id, jobID: nil, error: "undecodable entry; it cannot run"))
                continue
            }
            var args: [any RESPArgument] = [letter.id, clock.nowMillis(), envelope.redrives]
            for (name, value) in envelope.fields() {
                args.append(name)
                args.append(value)
            }
            let reply = try await connection.evaluate(
                RedisScripts.redrive, keys: [keys.dead(queue), keys.stream(queue), keys.job(queue, envelope.id)], args: args)
            if reply.string == nil {
                results.append(RedriveResult(deadLetterID: letter.id, jobID: nil, error: "already gone from the dead-letter queue"))
            } else {
                results.append(RedriveResult(deadLetterID: letter.id, jobID: envelope.id, error: nil))
            }
        }
        return results
    }

    public func deleteDeadLetters(_ ids: [String], queue: QueueName) async throws -> Int {
        var entryIDs: [String] = []
        for id in ids {
            if Self.isStreamID(id) {
                entryIDs.append(id)
            } else if let letter = try await deadLetter(id, queue: queue) {
                entryIDs.append(letter.id)
            }
        }
        if entryIDs.isEmpty { return 0 }
        var deleted = 0
        for chunk in stride(from: 0, to: entryIDs.count, by: 1000) {
            var command = RedisCommand("XDEL", keys.dead(queue))
            for id in entryIDs[chunk..<min(chunk + 1000, entryIDs.count)] { command.append(id) }
            deleted += Int(try await connection.send(command).int ?? 0)
        }
        return deleted
    }

    static func isStreamID(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count == 2 && UInt64(parts[0]) != nil && UInt64(parts[1]) != nil
    }

    static func deadLetter(_ entry: RESPValue, queue: QueueName) -> DeadLetter? {
        guard let parts = entry.array, parts.count == 2, let id = parts[0].string else { return nil }
        return DeadLetter(entryID: id, fields: fieldPairs(parts[1]), queue: queue)
    }

    // MARK: QueueInspectionDriver

    public func knownQueues() async throws -> [QueueName] {
        let reply = try await connection.send("SMEMBERS", keys.queues)
        return (reply.array ?? []).compactMap { $0.string.flatMap { try? QueueName(validating: $0) } }.sorted()
    }

    public func stats(queue: QueueName) async throws -> QueueStats {
        let now = clock.nowMillis()
        let bucket = now - now % RedisKeys.rateBucketMillis
        // The current bucket is partial; the six before it make one whole minute.
        let buckets = (1...6).map { keys.rateBucket(queue, bucket: bucket - Int64($0) * RedisKeys.rateBucketMillis) }
        var commands = [
            RedisCommand("XLEN", keys.stream(queue)),
            RedisCommand("ZCARD", keys.delayed(queue)),
            RedisCommand("XLEN", keys.dead(queue)),
            RedisCommand("XPENDING", keys.stream(queue), keys.group),
            RedisCommand("ZCOUNT", keys.consumers(queue), "(\(now - consumerTTL.milliseconds)", "+inf"),
            RedisCommand("XINFO", "GROUPS", keys.stream(queue)),
        ]
        commands.append(RedisCommand(["MGET"] + buckets))
        let replies = try await connection.pipeline(commands)
        let length = Int(replies[0].int ?? 0)
        let pending = Int(replies[3].array?.first?.int ?? 0)
        var oldest: Int64?
        if let groups = replies[5].array {
            for group in groups {
                let info = Dictionary(Self.fieldPairs(group).map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }) { a, _ in a }
                guard info["name"] == keys.group, let last = info["last-delivered-id"] else { continue }
                let next = try await connection.send("XRANGE", keys.stream(queue), "(" + last, "+", "COUNT", 1)
                if let id = next.array?.first?.array?.first?.string, let ms = Self.millis(ofEntry: id) {
                    oldest = max(0, now - ms)
                }
            }
        }
        let finished = (replies[6].array ?? []).reduce(Int64(0)) { $0 + ($1.int ?? 0) }
        return QueueStats(
            queue: queue.rawValue, ready: max(0, length - pending), delayed: Int(replies[1].int ?? 0), inFlight: pending,
            dead: Int(replies[2].int ?? 0), consumers: Int(replies[4].int ?? 0), oldestWaitingMillis: oldest,
            recentRate: Double(finished) / 60)
    }

    /// A consumer silent for this long is no longer listed as live.
    public var consumerTTL: Duration { .seconds(15) }

    public func heartbeat(_ consumer: ConsumerInfo, queue: QueueName, ttl: Duration) async throws {
        let now = clock.nowMillis()
        let info = String(decoding: try JSONEncoder().encode(consumer), as: UTF8.self)
        var commands = [
            RedisCommand("ZADD", keys.consumers(queue), now, consumer.name),
            RedisCommand("HSET", keys.consumerInfo(queue), consumer.name, info),
        ]
        if let lease = consumer.leaseMillis { commands.append(RedisCommand("HSET", keys.leases(queue), consumer.name, lease)) }
        let replies = try await connection.pipeline(commands)
        for reply in replies { try reply.throwingError() }
        try await forgetSilentConsumers(queue: queue, olderThan: now - 4 * ttl.milliseconds, idle: ttl * 4)
    }

    /// Drops consumers silent since `cutoff` from the registry, and from the group when they hold
    /// nothing; then those that held jobs when they were dropped and hold none now (reclaimed).
    private func forgetSilentConsumers(queue: QueueName, olderThan cutoff: Int64, idle: Duration) async throws {
        let stale = try await connection.send("ZRANGEBYSCORE", keys.consumers(queue), "-inf", "(\(cutoff)")
        for name in (stale.array ?? []).compactMap(\.string) {
            try await unregister(consumer: name, queue: queue)
        }
        try await connection.evaluate(
            RedisScripts.prune, keys: [keys.stream(queue), keys.consumers(queue), keys.leases(queue)],
            args: [keys.group, idle.milliseconds])
    }

    public func unregister(consumer: String, queue: QueueName) async throws {
        do {
            try await connection.evaluate(
                RedisScripts.unregister,
                keys: [keys.stream(queue), keys.consumers(queue), keys.consumerInfo(queue), keys.leases(queue)],
                args: [keys.group, consumer])
        } catch let error as RedisError where error.message.hasPrefix("NOGROUP") {
            // The stream is gone; there is nothing to leave.
        }
    }

    public func consumers(queue: QueueName) async throws -> [ConsumerStatus] {
        let now = clock.nowMillis()
        let replies = try await connection.pipeline([
            RedisCommand("ZRANGEBYSCORE", keys.consumers(queue), "(\(now - consumerTTL.milliseconds)", "+inf", "WITHSCORES"),
            RedisCommand("HGETALL", keys.consumerInfo(queue)),
            RedisCommand("XPENDING", keys.stream(queue), keys.group),
        ])
        let infos = Dictionary(Self.fieldPairs(replies[1]).map { ($0.0, $0.1) }) { a, _ in a }
        var held: [String: Int] = [:]
        if let summary = replies[2].array, summary.count == 4, let perConsumer = summary[3].array {
            for item in perConsumer {
                if let pair = item.array, pair.count == 2, let name = pair[0].string { held[name] = Int(pair[1].int ?? 0) }
            }
        }
        var out: [ConsumerStatus] = []
        let live = replies[0].array ?? []
        var i = 0
        while i + 1 < live.count {
            if let name = live[i].string, let beat = live[i + 1].int, let raw = infos[name],
                let info = try? JSONDecoder().decode(ConsumerInfo.self, from: Data(raw))
            {
                out.append(ConsumerStatus(info: info, lastBeat: beat, pending: held[name] ?? 0))
            }
            i += 2
        }
        return out
    }
}
