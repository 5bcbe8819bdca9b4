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
}
