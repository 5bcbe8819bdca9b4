import Foundation
import Synchronization
import Jobs
import JobsRedis
import TestSupport
import Testing

/// Issue 26, finding 8: every process used its own wall clock for due times, snoozes, promotion,
/// heartbeats and liveness, so a scheduler 2 s ahead promoted every 1 s snooze at once.
@Suite("Redis's clock")
struct RedisServerClockTests {
    /// This machine's clock, moved by `skew`.
    struct Skewed: JobClock {
        let skew: Duration
        func nowMillis() -> Int64 { SystemJobClock().nowMillis() + skew.milliseconds }
    }

    @Test("machines 5 s ahead and 5 s behind read the same time once synced", arguments: [5_000, -5_000, 0])
    func agrees(skewMillis: Int) async throws {
        let connection = RedisConnection(try RedisConfiguration(url: TestRedis.url()))
        let skewed = RedisServerClock(connection: connection, local: Skewed(skew: .milliseconds(skewMillis)))
        let straight = RedisServerClock(connection: connection)
        #expect(abs(skewed.nowMillis() - straight.nowMillis() - Int64(skewMillis)) < 50, "before a sync each reads its own")
        try await skewed.sync()
        try await straight.sync()
        #expect(abs(skewed.offsetMillis + Int64(skewMillis) - straight.offsetMillis) < 20)
        #expect(abs(skewed.nowMillis() - straight.nowMillis()) < 20, "after: one timeline")
        // And that timeline is Redis's.
        let time = try #require(try await connection.send("TIME").array)
        let redis = Int64(time[0].string!)! * 1000 + Int64(time[1].string!)! / 1000
        #expect(abs(skewed.nowMillis() - redis) < 50)
    }

    /// Review: reading Redis's time as wall clock plus an offset let an NTP step between two syncs
    /// through (a worker stepped 20 s ahead took every peer for dead).
    @Test("a step of the wall clock between two syncs does not move Redis's time")
    func wallClockStep() async throws {
        final class Stepping: JobClock, @unchecked Sendable {
            let step = Mutex<Int64>(0)
            func nowMillis() -> Int64 { SystemJobClock().nowMillis() + step.withLock { $0 } }
        }
        let connection = RedisConnection(try RedisConfiguration(url: TestRedis.url()))
        let wall = Stepping()
        let clock = RedisServerClock(connection: connection, local: wall)
        try await clock.sync()
        let before = clock.nowMillis()
        wall.step.withLock { $0 = 30_000 }
        #expect(abs(clock.nowMillis() - before) < 50, "the step shows only at the next sync, as an offset")
        try await clock.sync()
        #expect(abs(clock.offsetMillis + 30_000) < 50)
        #expect(abs(clock.nowMillis() - before) < 100)
    }

    @Test("a 1 s snooze written by a worker 5 s behind is not promoted early by a scheduler 5 s ahead")
    func snoozeAcrossSkew() async throws {
        let connection = RedisConnection(try RedisConfiguration(url: TestRedis.url()))
        let behind = RedisServerClock(connection: connection, local: Skewed(skew: .seconds(-5)))
        let ahead = RedisServerClock(connection: connection, local: Skewed(skew: .seconds(5)))
        try await behind.sync()
        try await ahead.sync()
        let prefix = RedisKeys(prefix: "test-\(UInt64.random(in: 0 ... .max))")
        let worker = RedisQueueDriver(
            configuration: .init(redis: try RedisConfiguration(url: TestRedis.url()), keys: prefix), clock: behind)
        let scheduler = RedisQueueDriver(
            configuration: .init(redis: try RedisConfiguration(url: TestRedis.url()), keys: prefix), clock: ahead)
        let queue = uniqueQueue()
        try await worker.prepare(queue: queue)
        let now = behind.nowMillis()
        _ = try await worker.enqueue(
            [JobEnvelope(id: .generate(millis: now), kind: "test.job", payload: [], enqueuedAt: now)], queue: queue)
        let fetched = try #require(try await worker.fetch(queue: queue, consumer: "w", maxCount: 1, blockFor: .milliseconds(20)).first)
        try await worker.complete([JobCompletion(job: fetched, outcome: .snooze(at: behind.nowMillis() + 1_000))], queue: queue)
        #expect(try await scheduler.promoteDue(queue: queue, limit: 10).promoted == 0, "not due for a second yet")
        try await Task.sleep(for: .milliseconds(1_100))
        #expect(try await scheduler.promoteDue(queue: queue, limit: 10).promoted == 1)
    }
}
