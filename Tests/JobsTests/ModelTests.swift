import Foundation
import Jobs
import Testing

@Suite("Job model")
struct ModelTests {
    @Test func registryRejectsDuplicates() throws {
        var registry = JobRegistry()
        try registry.register(JobKind<SystemNoop>("a.b", queue: "q"))
        #expect(throws: JobsError.self) { try registry.register(JobKind<SystemNoop>("a.b", queue: "other")) }
        #expect(registry.descriptor(named: "a.b")?.queue == "q")
    }

    @Test func namesAreValidated() {
        #expect(throws: JobsError.self) { try QueueName(validating: "has{brace}") }
        #expect(throws: JobsError.self) { try QueueName(validating: "") }
        #expect(throws: JobsError.self) { try JobName(validating: "Upper") }
        #expect((try? QueueName(validating: "telegram.send-1_x")) != nil)
    }

    @Test func retryPolicyPresets() {
        let p = RetryPolicy.exponentialJitter(maxAttempts: 5, base: .seconds(1), maxBackoff: .seconds(10))
        #expect(p.backoff(afterAttempt: 1, random: 0) == .seconds(1))
        #expect(p.backoff(afterAttempt: 3, random: 0) == .seconds(4))
        #expect(p.backoff(afterAttempt: 3, random: 0.999) >= .seconds(2))
        #expect(p.backoff(afterAttempt: 9, random: 0) == .seconds(10))
        #expect(p.allowsRetry(afterAttempt: 4))
        #expect(!p.allowsRetry(afterAttempt: 5))
        #expect(!RetryPolicy.never.allowsRetry(afterAttempt: 1))
        #expect(RetryPolicy.fixed(maxAttempts: 3, delay: .seconds(7)).backoff(afterAttempt: 2) == .seconds(7))
    }

    @Test func envelopeRoundTrip() throws {
        let e = JobEnvelope(
            id: .generate(millis: 1_700_000_000_000), kind: "k", payload: Array("{\"a\":\"é\"}".utf8), attempt: 3,
            enqueuedAt: 1_700_000_000_000, notBefore: 1_700_000_001_000, idempotencyKey: "key",
            traceContext: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            snoozes: 2, redrives: 1, errors: [AttemptError(attempt: 1, at: 5, error: "x\"y")])
        #expect(try JobEnvelope(fields: e.fields()) == e)
    }

    @Test func malformedTraceContextIsDropped() throws {
        let e = try JobEnvelope(
            fields: [("id", Array("i".utf8)), ("kind", Array("k".utf8)), ("payload", []), ("trace_context", Array("00-abc-def-01".utf8))],
            entryMillis: 1)
        #expect(e.traceContext == nil)
    }

    @Test func envelopeRejectsBadFields() {
        #expect(throws: JobsError.self) { try JobEnvelope(fields: [("kind", Array("k".utf8)), ("payload", [])]) }
        #expect(throws: JobsError.self) {
            try JobEnvelope(
                fields: [("id", Array("i".utf8)), ("kind", Array("k".utf8)), ("payload", []), ("attempt", Array("x".utf8))], entryMillis: 1)
        }
    }

    /// The front enqueues bets with `jsonBytes()`; it must be exactly what JSONEncoder writes.
    @Test(arguments: [
        BetsPlace(telegramID: 42, username: nil, marketID: 7, outcome: .yes, stake: 1),
        BetsPlace(telegramID: 9_007_199_254_740_991, username: "ann", marketID: 1, outcome: .no, stake: 500),
        BetsPlace(telegramID: 1, username: "q\"uo\\te\n\u{1}/ü😀", marketID: -3, outcome: .yes, stake: .max),
    ])
    func betsWriteTheirOwnJSON(bet: BetsPlace) throws {
        let own = bet.jsonBytes()
        #expect(try JSONCoding.decoder.decode(BetsPlace.self, from: Data(own)) == bet)
        if !(bet.username ?? "").contains("\u{1}") {
            #expect(String(decoding: own, as: UTF8.self) == String(decoding: try JSONCoding.encoder.encode(bet), as: UTF8.self))
        }
    }

    @Test func jobIDsAreUniqueAndSorted() {
        let ids = (0..<1000).map { JobID.generate(millis: 1_700_000_000_000 + Int64($0 / 10)) }
        #expect(Set(ids).count == 1000)
        #expect(ids.allSatisfy { JobID.looksValid($0.rawValue) })
        #expect(JobID.generate(millis: 1) < JobID.generate(millis: 2))
    }

    /// Two of a user's own ids must not tell how many jobs were made between them: every one of
    /// the 80 bits after the time is drawn afresh (a counter leaves its high bits constant).
    @Test("job ids carry 80 fresh random bits after the time")
    func jobIDsAreUnpredictable() {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
        let n = 2_000
        var ones = [Int](repeating: 0, count: 80)
        let time = JobID.generate(millis: 1_700_000_000_000).rawValue.prefix(10)
        for _ in 0..<n {
            let id = JobID.generate(millis: 1_700_000_000_000)
            #expect(id.rawValue.prefix(10) == time)
            // The last 16 characters are the 80 bits after the 48-bit time.
            let digits = id.rawValue.utf8.suffix(16).map { alphabet.firstIndex(of: $0)! }
            for (d, digit) in digits.enumerated() {
                for b in 0..<5 where digit >> (4 - b) & 1 == 1 { ones[d * 5 + b] += 1 }
            }
        }
        // Binomial(2000, 0.5): a standard deviation of 22; a bit outside 800...1200 is not random.
        #expect(ones.allSatisfy { (800...1200).contains($0) }, "ones per bit: \(ones)")
    }

    @Test func redisURLParsing() throws {
        let c = try RedisConfiguration(url: "redis://:s3cret@10.0.0.5:6380/3")
        #expect(c.host == "10.0.0.5" && c.port == 6380 && c.password == "s3cret" && c.database == 3)
        #expect(!c.redactedURL.contains("s3cret"))
        let d = try RedisConfiguration(url: "redis://localhost")
        #expect(d.port == 6379 && d.database == 0 && d.password == nil)
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "http://x") }
        #expect(throws: RedisError.self) { try RedisConfiguration(url: "redis://h:99999") }
    }
}

@Suite("Redis connection")
struct RedisConnectionTests {
    @Test func passesRedisErrorsOn() async throws {
        let c = RedisConnection(try RedisConfiguration(url: TestSupportURL.url()))
        let error = await #expect(throws: RedisError.self) { try await c.send("INCR", "thepred-test-not-a-number-\(UUID())", "extra") }
        #expect(error?.code == .server)
        #expect(error?.message.contains("wrong number of arguments") == true)
    }

    @Test func pipelinesConcurrentCallers() async throws {
        let c = RedisConnection(try RedisConfiguration(url: TestSupportURL.url()))
        let key = "thepred-test-counter-\(UUID())"
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<200 { group.addTask { try await c.send("INCR", key) } }
            try await group.waitForAll()
        }
        #expect(try await c.send("GET", key).int == 200)
        try await c.send("DEL", key)
    }

    @Test func unreachableServerFailsFast() async throws {
        let c = RedisConnection(try RedisConfiguration(url: "redis://127.0.0.1:1/0"))
        let start = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { try await c.send("PING") }
        #expect(error?.code == .connection)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    /// A server that accepts connections and never answers (hung, or stopped): each caller fails
    /// within about one reply timeout, not one timeout per batch queued ahead of it.
    @Test func silentServerFailsEachCallerWithinOneTimeout() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let c = RedisConnection(try RedisConfiguration(url: "redis://127.0.0.1:\(listener.port)/0"), commandTimeout: .milliseconds(400))
        let clock = ContinuousClock()
        // Callers arrive every 100 ms for 1.2 s, so some always wait behind a batch in flight.
        let waits = try await withThrowingTaskGroup(of: (Duration, RedisError?).self) { group in
            for i in 0..<12 {
                group.addTask {
                    try await Task.sleep(for: .milliseconds(100 * i))
                    let start = clock.now
                    do {
                        _ = try await c.send("PING")
                        return (clock.now - start, nil)
                    } catch let error as RedisError {
                        return (clock.now - start, error)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(waits.allSatisfy { $0.1?.code == .connection }, "\(waits)")
        #expect(waits.contains { $0.1?.message.contains("no reply within") == true })
        // Before the fix, callers queued behind a timed-out batch waited two timeouts (800 ms).
        #expect(waits.allSatisfy { $0.0 < .milliseconds(650) }, "\(waits.map(\.0))")
    }
}

import TestSupport
import JobsRedis
import ThePredKinds
enum TestSupportURL { static func url() throws -> String { try TestRedis.url() } }
