import Foundation
import Jobs
import JobsRedis
import TestSupport
import Testing

/// What KEDA's redis-streams scaler would read from our streams, beside the true backlog.
///
/// KEDA's scaler (pkg/scalers/redis_streams_scaler.go) reads one of three figures: with `lag`
/// (`lagCount` in newer releases), the consumer group's `lag` from `XINFO GROUPS`, which go-redis
/// reads as 0 when Redis answers NULL; with `pendingEntriesCount`, the count of `XPENDING`; otherwise
/// `XLEN`. The true backlog is the jobs a worker could run now: waiting (ready) and held (in flight).
/// The states are the ones our workers leave: acks delete entries (`XACK` + `XDEL`), retries go to a
/// sorted set and come back as new entries, takeovers (`XAUTOCLAIM`) and redrives.
@Suite("KEDA's figures against live streams")
struct KEDAFiguresTests {
    struct Figures: Equatable, CustomStringConvertible {
        var lag: Int64
        var lagIsNull: Bool
        var pending: Int64
        var length: Int64
        var backlog: Int
        var description: String { "lag \(lagIsNull ? "NULL(0)" : "\(lag)") pending \(pending) xlen \(length) | backlog \(backlog)" }
    }

    static func figures(_ h: Harness, _ driver: RedisQueueDriver) async throws -> Figures {
        let stream = driver.keys.stream(h.queue)
        let groups = try await driver.connection.send("XINFO", "GROUPS", stream).array ?? []
        var lag: Int64 = 0
        var lagIsNull = true
        for group in groups {
            let fields = group.array ?? []
            var map: [String: RESPValue] = [:]
            var i = 0
            while i + 1 < fields.count {
                map[fields[i].string ?? ""] = fields[i + 1]
                i += 2
            }
            guard map["name"]?.string == driver.keys.group else { continue }
            if case .integer(let n) = map["lag"] {
                lag = n
                lagIsNull = false
            }
        }
        let pendingReply = try await driver.connection.send("XPENDING", stream, driver.keys.group).array ?? []
        let pending: Int64 = if case .integer(let n) = pendingReply.first { n } else { 0 }
        let lengthReply = try await driver.connection.send("XLEN", stream)
        let length: Int64 = if case .integer(let n) = lengthReply { n } else { 0 }
        let stats = try await driver.stats(queue: h.queue)
        return Figures(lag: lag, lagIsNull: lagIsNull, pending: pending, length: length, backlog: stats.ready + stats.inFlight)
    }

    @Test("through enqueue, acks, a retry, a takeover and a redrive")
    func states() async throws {
        let h = try await Harness.make("redis")
        let driver = try #require(h.driver as? RedisQueueDriver)
        var seen: [(String, Figures)] = []
        func record(_ state: String) async throws -> Figures {
            let f = try await Self.figures(h, driver)
            seen.append((state, f))
            return f
        }
        let envelopes = (0..<10).map { _ in h.envelope() }
        try await h.enqueue(envelopes)
        let fresh = try await record("10 enqueued, none read")

        let first = try await h.fetch("c1", max: 4)
        let reading = try await record("4 fetched, not acked")
        try await h.driver.complete(first.map { .succeeded($0) }, queue: h.queue)
        let acked = try await record("4 acked (deleted), 6 waiting")

        let second = try await h.fetch("c1", max: 2)
        try await h.driver.complete(
            [JobCompletion(job: second[0], outcome: .retry(at: h.clock.nowMillis(), error: h.error("down")))], queue: h.queue)
        _ = try await h.promote()
        let retried = try await record("1 retried and promoted, 1 held, 4 waiting")

        try await h.elapse(.seconds(2), real: true)
        let taken = try await h.reclaim("c2", idleFor: .seconds(1))
        let reclaimed = try await record("the held one taken over by c2")
        try await h.driver.complete(taken.map { .succeeded($0) }, queue: h.queue)

        let third = try await h.fetch("c1", max: 1)
        try await h.driver.complete(
            [JobCompletion(job: third[0], outcome: .dead(reason: .permanent, error: h.error("bad")))], queue: h.queue)
        let dead = try await h.deadLetters()
        _ = try await h.driver.redrive(dead.map(\.id), queue: h.queue)
        let redriven = try await record("1 dead and redriven")

        // Cancelling a job that waits deletes its entry before the group read it.
        _ = try await h.driver.cancel(envelopes[9].id, queue: h.queue)
        let cancelled = try await record("1 waiting job cancelled")
        let rest = try await h.fetch("c1", max: 10)
        try await h.driver.complete(rest.map { .succeeded($0) }, queue: h.queue)
        let drained = try await record("all done")

        for (state, f) in seen { print("KEDA figures: \(state): \(f)") }
        // The true backlog, by construction.
        #expect(fresh.backlog == 10)
        #expect(reading.backlog == 10)
        #expect(acked.backlog == 6)
        #expect(retried.backlog == 6)
        #expect(reclaimed.backlog == 6)
        #expect(redriven.backlog == 5)
        #expect(cancelled.backlog == 4)
        #expect(drained.backlog == 0)
        // streamLength (XLEN) is the true backlog in every state: our acks delete their entries,
        // and retries and snoozes leave the stream. It is the trigger ops/k8s uses.
        for (state, f) in seen { #expect(Int(f.length) == f.backlog, "XLEN in state: \(state)") }
        // pendingEntriesCount sees only what is held: a full queue nobody reads is 0, so KEDA would
        // scale the workers to zero with ten jobs waiting.
        #expect(fresh.pending == 0)
        // lag leaves out what is held (a queue of long jobs would scale down while they run) ...
        #expect(reading.lag == 6)
        // ... and after a waiting job is cancelled (its entry deleted before the group read it)
        // Redis answers NULL, which go-redis reads as 0: four jobs wait and KEDA sees none.
        #expect(cancelled.lagIsNull && cancelled.lag == 0)
    }
}
