import Foundation
import Jobs
@testable import JobsRedis
import TestSupport
import Testing

/// Redis-only faults: what a script does when Redis forgets it, and the Lua paths the memory
/// driver has no twin for.
@Suite("Redis scripts under faults")
struct RedisScriptFaultTests {
    @Test("after NOSCRIPT only the calls that failed are sent again")
    func noScriptResendsOnlyFailures() async throws {
        let driver = try TestRedis.driver()
        let connection = driver.connection
        let key = "test-noscript-\(UInt64.random(in: 0 ... .max))"
        let counted = RedisScript(name: "count", source: "return redis.call('INCR', KEYS[1])")
        let other = RedisScript(name: "other", source: "return redis.call('INCR', KEYS[1]) * 0 + 7")
        // Both known to the client; then the server forgets both and relearns only the first,
        // as when another client flushes scripts between two calls of one pipeline.
        try await connection.evaluate(counted, keys: [key], args: [])
        try await connection.evaluate(other, keys: [key + ":o"], args: [])
        try await connection.send("SCRIPT", "FLUSH")
        try await connection.send("SCRIPT", "LOAD", counted.source)
        let replies = try await connection.evaluate([
            ScriptCall(script: counted, keys: [key], args: []), ScriptCall(script: other, keys: [key + ":o"], args: []),
        ])
        #expect(replies == [.integer(2), .integer(7)])
        #expect(try await connection.send("GET", key).int == 2)
        try await connection.send("DEL", key, key + ":o")
    }

    @Test("a poison entry with thousands of fields is buried, not lost")
    func widePoison() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue()
        try await driver.prepare(queue: queue)
        var add = RedisCommand("XADD", driver.keys.stream(queue), "*", "id", "wide-poison", "kind", "system.noop", "payload", "{}")
        for i in 0..<4000 {
            add.append("f\(i)")
            add.append("v")
        }
        try await driver.connection.send(add)
        // Read it as a consumer that then dies without decoding it; the reclaim is its second delivery.
        _ = try await driver.connection.send(
            "XREADGROUP", "GROUP", driver.keys.group, "a", "COUNT", 1, "STREAMS", driver.keys.stream(queue), ">")
        try await Task.sleep(for: .milliseconds(30))
        let result = try await driver.reclaim(queue: queue, consumer: "c", idleFor: .milliseconds(10), maxCount: 10, maxDeliveries: 1)
        #expect(result.jobs.isEmpty)
        // Its first 256 fields still name the job, so its kind's dead-job hook can run.
        #expect(result.poisoned.map(\.envelope.id.rawValue) == ["wide-poison"])
        let dead = try await driver.deadLetters(queue: queue, filter: .init())
        #expect(dead.count == 1)
        #expect(dead.first?.reason == .poison)
        #expect(try await driver.stats(queue: queue).inFlight == 0)
    }

    /// Found by ops/chaos (seed 71827): Redis, SIGKILLed under `appendfsync everysec`, came back
    /// without a job it had acknowledged (its enqueue and the worker's read never reached the AOF).
    /// The worker's retry then found no entry of its own and was dropped: the job was gone.
    @Test("a retry or a bury for a job Redis has forgotten makes it again instead of dropping it", arguments: ["retry", "dead"])
    func forgottenJob(outcome: String) async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue()
        try await driver.prepare(queue: queue)
        let now = SystemJobClock().nowMillis()
        let envelope = JobEnvelope(id: .generate(millis: now), kind: "test.job", payload: Array("{}".utf8), enqueuedAt: now)
        _ = try await driver.enqueue([envelope], queue: queue)
        let fetched = try #require(
            try await driver.fetch(queue: queue, consumer: "c1", maxCount: 1, blockFor: .milliseconds(20)).first)
        // What a Redis that lost its last second of writes holds: no entry, no pending entry, no status.
        let c = driver.connection
        try await c.send("XACK", driver.keys.stream(queue), driver.keys.group, fetched.entryID)
        try await c.send("XDEL", driver.keys.stream(queue), fetched.entryID)
        try await c.send("DEL", driver.keys.job(queue, envelope.id))
        let error = AttemptError(attempt: 1, at: now, error: "cannot reach Redis")
        let end: JobCompletion.Outcome = outcome == "retry" ? .retry(at: now + 1000, error: error) : .dead(reason: .exhausted, error: error)
        try await driver.complete([JobCompletion(job: fetched, outcome: end)], queue: queue)
        let record = try #require(try await driver.job(envelope.id, queue: queue), "the job is known again")
        if outcome == "retry" {
            #expect(record.status == .retrying)
            #expect(record.attempt == 2)
            #expect(try await c.send("ZSCORE", driver.keys.delayed(queue), envelope.id.rawValue).int == now + 1000)
        } else {
            #expect(record.status == .dead)
            #expect(try await driver.deadLetters(queue: queue, filter: .init()).map(\.envelope?.id) == [envelope.id])
        }
        // A job another consumer holds, or one settled already, is still left alone.
        try await driver.enqueue([JobEnvelope(id: .generate(millis: now), kind: "test.job", payload: [], enqueuedAt: now)], queue: queue)
        let held = try #require(try await driver.fetch(queue: queue, consumer: "c2", maxCount: 1, blockFor: .milliseconds(20)).first)
        let stale = FetchedJob(queue: queue, entryID: held.entryID, envelope: held.envelope, deliveries: 1, consumer: "c1")
        try await driver.complete([JobCompletion(job: stale, outcome: end)], queue: queue)
        #expect(try await driver.job(held.envelope.id, queue: queue)?.status == .running)
        #expect(try await driver.stats(queue: queue).inFlight == 1, "c2 still holds its job")
        #expect(try await c.send("ZSCORE", driver.keys.delayed(queue), held.envelope.id.rawValue) == .null)
    }

    @Test("a server older than Redis 7.0 is refused with a clear error")
    func versionCheck() throws {
        #expect(throws: Never.self) {
            try RedisQueueDriver.checkVersion(info: "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n")
        }
        #expect(throws: Never.self) { try RedisQueueDriver.checkVersion(info: "redis_version:7.2.4\n") }
        let old = #expect(throws: RedisError.self) { try RedisQueueDriver.checkVersion(info: "redis_version:6.2.14\r\n") }
        #expect(old?.code == .unsupportedServer)
        #expect(old?.description.contains("Redis 7.0 or newer") == true)
        #expect(throws: RedisError.self) { try RedisQueueDriver.checkVersion(info: "# Server\r\n") }
    }

    /// Issue 26, finding 9: a consumer SIGKILLed while it held a job was dropped from the registry
    /// but kept in the group with its lease (it held an entry), and once its job was reclaimed
    /// nobody looked at it again: every crash left a group consumer and a lease for ever.
    @Test("a crashed consumer's group entry and lease go once its jobs were reclaimed")
    func crashedConsumerPruned() async throws {
        let driver = try TestRedis.driver()
        let queue = uniqueQueue()
        try await driver.prepare(queue: queue)
        let now = SystemJobClock().nowMillis()
        try await driver.enqueue([JobEnvelope(id: .generate(millis: now), kind: "test.job", payload: [], enqueuedAt: now)], queue: queue)
        let crashed = ConsumerInfo(
            name: "crashed", host: "h", pid: 1, startedAt: 0, concurrency: 1, inFlight: 0, processed: 0, leaseMillis: 50)
        try await driver.heartbeat(crashed, queue: queue, ttl: .seconds(5))
        #expect(try await driver.fetch(queue: queue, consumer: "crashed", maxCount: 1, blockFor: .zero).count == 1)
        let live = ConsumerInfo(name: "live", host: "h", pid: 2, startedAt: 0, concurrency: 1, inFlight: 0, processed: 0, leaseMillis: 50)
        func names() async throws -> Set<String> {
            let groups = try await driver.connection.send("XINFO", "CONSUMERS", driver.keys.stream(queue), driver.keys.group)
            var out = Set<String>()
            for consumer in groups.array ?? [] {
                let pairs = consumer.array ?? []
                for i in stride(from: 0, to: pairs.count - 1, by: 2) where pairs[i].string == "name" {
                    out.insert(pairs[i + 1].string ?? "")
                }
            }
            return out
        }
        func leases() async throws -> Set<String> {
            Set((try await driver.connection.send("HKEYS", driver.keys.leases(queue)).array ?? []).compactMap(\.string))
        }
        try await Task.sleep(for: .milliseconds(200))
        // Silent past 4 x 20 ms: dropped from the registry, kept in the group for the job it holds.
        try await driver.heartbeat(live, queue: queue, ttl: .milliseconds(20))
        #expect(try await names().contains("crashed"))
        #expect(try await leases().contains("crashed"))
        let taken = try await driver.reclaim(queue: queue, consumer: "live", idleFor: .milliseconds(50), maxCount: 10, maxDeliveries: 5)
        #expect(taken.jobs.count == 1)
        try await Task.sleep(for: .milliseconds(100))
        try await driver.heartbeat(live, queue: queue, ttl: .milliseconds(20))
        #expect(try await names() == ["live"])
        #expect(try await leases() == ["live"])
    }
}
