import Foundation

/// Dead letters, queue figures, consumers and helpers of the memory driver.
extension MemoryQueueDriver {
    // MARK: DeadLetterDriver

    public func deadLetters(queue: QueueName, filter: DeadLetterFilter) async throws -> [DeadLetter] {
        withQueue(queue) { q in
            Array(
                q.dead.reversed().lazy.compactMap { Self.deadLetter($0.id, $0.fields, queue: queue) }
                    .filter { filter.matches($0) }.prefix(filter.limit))
        }
    }

    public func deadLetter(_ id: String, queue: QueueName) async throws -> DeadLetter? {
        let now = clock.nowMillis()
        return withQueue(queue) { q in
            let entryID = JobID.looksValid(id) ? q.status(id, now: now)?["dead_id"] : id
            guard let entryID, let item = q.dead.first(where: { $0.id == entryID }) else { return nil }
            return Self.deadLetter(item.id, item.fields, queue: queue)
        }
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
            let now = clock.nowMillis()
            let moved = withQueue(queue) { q -> Bool in
                guard let index = q.dead.firstIndex(where: { $0.id == letter.id }) else { return false }
                q.dead.remove(at: index)
                let sid = q.nextEntryID(now: now)
                q.stream[sid] = envelope.fields()
                q.undelivered.append(sid)
                q.setStatus(
                    envelope.id.rawValue,
                    [
                        "status": "queued", "sid": sid, "updated_at": "\(now)",
                        "redriven_at": "\(now)", "redrives": "\(envelope.redrives)", "attempt": "1",
                    ])
                return true
            }
            results.append(
                RedriveResult(
                    deadLetterID: letter.id, jobID: moved ? envelope.id : nil,
                    error: moved ? nil : "already gone from the dead-letter queue"))
        }
        return results
    }

    public func deleteDeadLetters(_ ids: [String], queue: QueueName) async throws -> Int {
        var entryIDs = Set<String>()
        for id in ids {
            if let letter = try await deadLetter(id, queue: queue) { entryIDs.insert(letter.id) }
        }
        return withQueue(queue) { q in
            let before = q.dead.count
            q.dead.removeAll { entryIDs.contains($0.id) }
            return before - q.dead.count
        }
    }

    // MARK: QueueInspectionDriver

    public func knownQueues() async throws -> [QueueName] {
        state.withLock { $0.queues.keys.sorted() }
    }

    public func stats(queue: QueueName) async throws -> QueueStats {
        let now = clock.nowMillis()
        return withQueue(queue) { q in
            let oldest = q.undelivered.first { q.stream[$0] != nil }.flatMap(Self.millis).map { max(0, now - $0) }
            let ready = q.undelivered.filter { q.stream[$0] != nil }.count
            return QueueStats(
                queue: queue.rawValue, ready: ready, delayed: q.delayed.count, inFlight: q.pending.count, dead: q.dead.count,
                consumers: q.consumers.values.filter { now - $0.beat < 15_000 }.count, oldestWaitingMillis: oldest,
                recentRate: Double(q.finished.filter { $0 >= now - 60_000 }.count) / 60)
        }
    }

    public func heartbeat(_ consumer: ConsumerInfo, queue: QueueName, ttl: Duration) async throws {
        let now = clock.nowMillis()
        withQueue(queue) { q in
            q.consumers[consumer.name] = (consumer, now)
            if let lease = consumer.leaseMillis { q.leases[consumer.name] = lease }
            q.consumers = q.consumers.filter { now - $0.value.beat < 4 * ttl.milliseconds }
        }
    }

    public func unregister(consumer: String, queue: QueueName) async throws {
        withQueue(queue) { q in
            q.consumers[consumer] = nil
            if !q.pending.values.contains(where: { $0.consumer == consumer }) { q.leases[consumer] = nil }
        }
    }

    public func consumers(queue: QueueName) async throws -> [ConsumerStatus] {
        let now = clock.nowMillis()
        return withQueue(queue) { q in
            q.consumers.values.filter { now - $0.beat < 15_000 }.map { item in
                ConsumerStatus(
                    info: item.info, lastBeat: item.beat,
                    pending: q.pending.values.filter { $0.consumer == item.info.name }.count)
            }.sorted { $0.info.name < $1.info.name }
        }
    }

    // MARK: Helpers

    static func millis(_ entryID: String) -> Int64? {
        entryID.split(separator: "-").first.flatMap { Int64($0) }
    }

    static func entryOrder(_ a: String, _ b: String) -> Bool {
        let pa = a.split(separator: "-").compactMap { Int64($0) }
        let pb = b.split(separator: "-").compactMap { Int64($0) }
        return pa.lexicographicallyPrecedes(pb)
    }

    static func deadFields(reason: DeadReason, message: String, now: Int64, fields: Fields) -> Fields {
        [("dead_reason", Array(reason.rawValue.utf8)), ("dead_message", Array(message.utf8)), ("failed_at", Array("\(now)".utf8))]
            + fields
    }

    static func deadLetter(_ id: String, _ fields: Fields, queue: QueueName) -> DeadLetter? {
        DeadLetter(entryID: id, fields: fields, queue: queue)
    }
}
