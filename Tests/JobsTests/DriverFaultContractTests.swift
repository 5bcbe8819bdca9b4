import Foundation
import Jobs
import TestSupport
import Testing

/// The contract under hostile input and races: what issue 12's chaos run found, on both drivers.
@Suite("Queue driver contract: faults and hostile entries")
struct DriverFaultContractTests {
    static let bounds = ["-9223372036854775808", "9223372036854775807", "99999999999999999999", "+5", " 1", "-1", ""]

    @Test("numbers at Int64's bounds in any envelope field make an undecodable dead letter", arguments: Harness.kinds)
    func boundsAreUndecodable(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let fields = ["attempt", "enqueued_at", "not_before", "snoozes", "redrives"]
        for field in fields {
            for value in Self.bounds {
                try await h.addRaw([("id", "b-\(field)-\(value)"), ("kind", "system.noop"), ("payload", "{}"), (field, value)])
            }
        }
        let good = h.envelope()
        try await h.enqueue([good])
        var fetched: [FetchedJob] = []
        for _ in 0..<10 { fetched += try await h.fetch(max: 100) }
        #expect(fetched.map(\.envelope.id) == [good.id])
        let dead = try await h.deadLetters()
        #expect(dead.count == fields.count * Self.bounds.count)
        #expect(dead.allSatisfy { $0.reason == .undecodable && $0.message.contains("field '") })
        #expect(try await h.driver.stats(queue: h.queue).inFlight == 1)
    }

    @Test("the largest values the schema allows decode, and the next steps cannot overflow", arguments: Harness.kinds)
    func largestValuesDecode(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.addRaw([
            ("id", "max-1"), ("kind", "system.noop"), ("payload", "{}"), ("attempt", "1000000"),
            ("enqueued_at", "253402300799999"), ("not_before", "0"), ("snoozes", "1000000000"), ("redrives", "1000000000"),
        ])
        let job = try #require(try await h.fetch().first)
        #expect(job.envelope.attempt == 1_000_000)
        let next = JobCompletion(job: job, outcome: .retry(at: 1, error: h.error("x"))).nextEnvelope
        #expect(next.attempt == 1_000_001)
        #expect(RetryPolicy.default.backoff(afterAttempt: job.envelope.attempt) <= .seconds(300))
    }

    @Test("kind names are checked: a 10 KB name, capitals and spaces are undecodable", arguments: Harness.kinds)
    func kindNamesChecked(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let names = [String(repeating: "k", count: 10_240), "Bets.Place", "bets place", "", String(repeating: "a", count: 65)]
        for (i, name) in names.enumerated() {
            try await h.addRaw([("id", "k-\(i)"), ("kind", name), ("payload", "{}")])
        }
        try await h.addRaw([("id", "k-ok"), ("kind", String(repeating: "a", count: 64)), ("payload", "{}")])
        let fetched = try await h.fetch(max: 20)
        #expect(fetched.map(\.envelope.id.rawValue) == ["k-ok"])
        let dead = try await h.deadLetters()
        #expect(dead.count == names.count)
        #expect(dead.allSatisfy { $0.reason == .undecodable && $0.message.contains("kind") })
    }

    @Test("an entry with thousands of fields is buried with its first fields, not lost", arguments: Harness.kinds)
    func thousandsOfFields(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        var fields: [(String, String)] = []
        for i in 0..<5000 { fields.append(("f\(i)", "v\(i)")) }
        // Its own fields come last, so only a dead letter that looks for them keeps them.
        fields += [("id", "wide-1"), ("kind", "system.noop"), ("payload", "{}")]
        try await h.addRaw(fields)
        #expect(try await h.fetch().isEmpty)
        let dead = try #require(try await h.deadLetters().first)
        #expect(dead.reason == .undecodable)
        #expect(dead.message.contains("5003 fields"))
        #expect(dead.jobID == "wide-1")
        #expect(dead.kind == "system.noop")
        #expect(dead.rawFields.count == 64)
        #expect(dead.rawFields.contains { $0.0 == "payload" && $0.1 == "{}" })
        let stats = try await h.driver.stats(queue: h.queue)
        #expect(stats.inFlight == 0 && stats.ready == 0 && stats.dead == 1)
    }

    @Test("after a takeover, the first consumer's late outcome changes nothing", arguments: Harness.kinds)
    func staleOwnerChangesNothing(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let job = h.envelope()
        try await h.enqueue([job])
        let slow = try #require(try await h.fetch("slow").first)
        try await h.elapse(.milliseconds(150), real: true)
        let rescued = try #require(try await h.reclaim("rescuer", idleFor: .milliseconds(100)).first)
        // The rescuer still runs it; every late outcome of the first consumer must be ignored.
        let now = h.clock.nowMillis()
        try await h.driver.complete([JobCompletion(job: slow, outcome: .retry(at: now + 60_000, error: h.error("late")))], queue: h.queue)
        try await h.driver.complete([JobCompletion(job: slow, outcome: .dead(reason: .permanent, error: h.error("late")))], queue: h.queue)
        try await h.driver.complete([JobCompletion(job: slow, outcome: .snooze(at: now + 60_000))], queue: h.queue)
        try await h.driver.complete([JobCompletion(job: slow, outcome: .rejected(reason: "late"))], queue: h.queue)
        try await h.driver.complete([.succeeded(slow)], queue: h.queue)
        var stats = try await h.driver.stats(queue: h.queue)
        #expect(stats.inFlight == 1 && stats.delayed == 0 && stats.dead == 0)
        #expect(try await h.driver.job(job.id, queue: h.queue)?.status == .running)
        // The current owner's outcome is the one that counts.
        try await h.driver.complete([.succeeded(rescued)], queue: h.queue)
        stats = try await h.driver.stats(queue: h.queue)
        #expect(stats.inFlight == 0)
        #expect(try await h.driver.job(job.id, queue: h.queue)?.status == .succeeded)
    }

    @Test("the owner's lease decides, not the reclaiming worker's visibility timeout", arguments: Harness.kinds)
    func leaseBelongsToOwner(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.enqueue([h.envelope(), h.envelope()])
        let long = ConsumerInfo(
            name: "long", host: "h", pid: 1, startedAt: 0, concurrency: 1, inFlight: 0, processed: 0, leaseMillis: 30_000)
        try await h.driver.heartbeat(long, queue: h.queue, ttl: .seconds(5))
        _ = try await h.fetch("long", max: 1)
        _ = try await h.fetch("silent", max: 1)  // never gave a lease: the reclaimer's timeout applies
        try await h.elapse(.milliseconds(250), real: true)
        let taken = try await h.reclaim("impatient", idleFor: .milliseconds(100))
        #expect(taken.count == 1)
        #expect(try await h.driver.stats(queue: h.queue).inFlight == 2)
        // A clean stop while it holds a job keeps its lease on record for that job.
        try await h.driver.unregister(consumer: "long", queue: h.queue)
        #expect(try await h.reclaim("impatient", idleFor: .milliseconds(100)).isEmpty)
    }

    @Test("a rejection ends the job with its reason and is not a dead letter", arguments: Harness.kinds)
    func rejectionIsFinal(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let job = h.envelope()
        try await h.enqueue([job])
        let fetched = try #require(try await h.fetch().first)
        try await h.driver.complete([JobCompletion(job: fetched, outcome: .rejected(reason: "insufficient balance"))], queue: h.queue)
        let record = try #require(try await h.driver.job(job.id, queue: h.queue))
        #expect(record.status == .rejected)
        #expect(record.status.isFinal)
        #expect(record.lastError == "insufficient balance")
        let stats = try await h.driver.stats(queue: h.queue)
        #expect(stats.dead == 0 && stats.inFlight == 0 && stats.ready == 0 && stats.delayed == 0)
    }

    @Test("a dead-letter queue keeps at most its cap, the newest", arguments: Harness.kinds)
    func deadLetterCap(_ kind: String) async throws {
        let h = try await Harness.make(kind, deadLetterLimit: 3)
        let jobs = (0..<5).map { h.envelope("{\"n\":\($0)}") }
        try await h.enqueue(jobs)
        let fetched = try await h.fetch()
        try await h.driver.complete(
            fetched.map { JobCompletion(job: $0, outcome: .dead(reason: .permanent, error: h.error("no"))) }, queue: h.queue)
        let dead = try await h.deadLetters()
        #expect(dead.count == 3)
        #expect(Set(dead.compactMap(\.jobID)) == Set(jobs.suffix(3).map(\.id.rawValue)))
    }
}
