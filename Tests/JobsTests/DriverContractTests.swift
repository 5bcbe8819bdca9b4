import Foundation
import Jobs
import JobsRedis
import TestSupport
import Testing

/// One driver under test, with a clock the test moves.
struct Harness {
    let driver: any FullJobQueueDriver & RawEntryDriver
    let clock: ManualJobClock
    let isRedis: Bool
    let queue = uniqueQueue()

    static let kinds = ["memory", "redis"]

    static func make(_ kind: String, deadLetterLimit: Int = 100_000) async throws -> Harness {
        let clock = ManualJobClock(millis: SystemJobClock().nowMillis())
        let h: Harness
        if kind == "redis" {
            h = Harness(driver: try TestRedis.driver(clock: clock, deadLetterLimit: deadLetterLimit), clock: clock, isRedis: true)
        } else {
            h = Harness(driver: MemoryQueueDriver(clock: clock, deadLetterLimit: deadLetterLimit), clock: clock, isRedis: false)
        }
        try await h.driver.prepare(queue: h.queue)
        return h
    }

    /// Moves test time; Redis measures idle time itself, so real time passes too there.
    func elapse(_ d: Duration, real: Bool = false) async throws {
        clock.advance(by: d)
        if real && isRedis { try await Task.sleep(for: d) }
    }

    func envelope(
        _ payload: String = "{}", kind: String = "test.job", notBefore: Int64? = nil, key: String? = nil, fingerprint: String? = nil
    ) -> JobEnvelope {
        let now = clock.nowMillis()
        return JobEnvelope(
            id: .generate(millis: now), kind: kind, payload: Array(payload.utf8), enqueuedAt: now, notBefore: notBefore,
            idempotencyKey: key, idempotencyFingerprint: fingerprint)
    }

    @discardableResult
    func enqueue(_ envelopes: [JobEnvelope]) async throws -> [EnqueueResult] {
        try await driver.enqueue(envelopes, queue: queue)
    }

    func fetch(_ consumer: String = "c1", max: Int = 10) async throws -> [FetchedJob] {
        try await driver.fetch(queue: queue, consumer: consumer, maxCount: max, blockFor: .milliseconds(20))
    }

    func reclaim(_ consumer: String, idleFor: Duration, max: Int = 10, maxDeliveries: Int = 5) async throws -> [FetchedJob] {
        try await driver.reclaim(queue: queue, consumer: consumer, idleFor: idleFor, maxCount: max, maxDeliveries: maxDeliveries).jobs
    }

    func deadLetters() async throws -> [DeadLetter] { try await driver.deadLetters(queue: queue, filter: .init()) }

    func promote() async throws -> Int { try await driver.promoteDue(queue: queue, limit: 100).promoted }

    func addRaw(_ fields: [(String, String)]) async throws {
        try await driver.appendRaw(queue: queue, fields: fields)
    }

    func error(_ text: String) -> AttemptError { AttemptError(attempt: 1, at: clock.nowMillis(), error: text) }
}

@Suite("Queue driver contract")
struct DriverContractTests {
    @Test("enqueue, fetch and ack", arguments: Harness.kinds)
    func enqueueFetchAck(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let jobs = (1...3).map { h.envelope("{\"n\":\($0)}") }
        let results = try await h.enqueue(jobs)
        #expect(results.map(\.id) == jobs.map(\.id))
        #expect(results.allSatisfy { !$0.duplicate })
        #expect(try await h.driver.job(jobs[0].id, queue: nil)?.status == .queued)

        let fetched = try await h.fetch()
        #expect(fetched.map(\.envelope.id) == jobs.map(\.id))
        #expect(fetched.map(\.envelope.payload) == jobs.map(\.payload))
        #expect(fetched.allSatisfy { $0.deliveries == 1 && $0.envelope.attempt == 1 })
        #expect(try await h.driver.job(jobs[0].id, queue: h.queue)?.status == .running)
        #expect(try await h.driver.stats(queue: h.queue).inFlight == 3)

        try await h.driver.complete(fetched.map(JobCompletion.succeeded), queue: h.queue)
        let stats = try await h.driver.stats(queue: h.queue)
        #expect(stats.ready == 0 && stats.inFlight == 0 && stats.dead == 0)
        #expect(try await h.driver.job(jobs[2].id, queue: nil)?.status == .succeeded)
        #expect(try await h.fetch().isEmpty)
    }

    @Test("retry backoff is honoured under the test clock", arguments: Harness.kinds)
    func backoffTiming(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let policy = RetryPolicy.exponentialJitter(maxAttempts: 3, base: .seconds(2), maxBackoff: .seconds(60))
        try await h.enqueue([h.envelope()])
        let first = try #require(try await h.fetch().first)
        let delay = policy.backoff(afterAttempt: 1, random: 0.3)
        #expect(delay >= .seconds(1) && delay <= .seconds(2))
        let due = h.clock.nowMillis() + delay.milliseconds
        try await h.driver.complete(
            [JobCompletion(job: first, outcome: .retry(at: due, error: h.error("boom")))], queue: h.queue)
        let record = try #require(try await h.driver.job(first.envelope.id, queue: h.queue))
        #expect(record.status == .retrying)
        #expect(record.dueAt == due)
        #expect(record.lastError == "boom")

        try await h.elapse(delay - .milliseconds(1))
        #expect(try await h.promote() == 0)
        #expect(try await h.fetch().isEmpty)
        try await h.elapse(.milliseconds(1))
        #expect(try await h.promote() == 1)
        let second = try #require(try await h.fetch().first)
        #expect(second.envelope.id == first.envelope.id)
        #expect(second.envelope.attempt == 2)
        #expect(second.envelope.errors.map(\.error) == ["boom"])
    }

    @Test("a permanent failure goes to the dead-letter queue", arguments: Harness.kinds)
    func permanentGoesDead(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let job = h.envelope("{\"x\":1}")
        try await h.enqueue([job])
        let fetched = try #require(try await h.fetch().first)
        try await h.driver.complete(
            [JobCompletion(job: fetched, outcome: .dead(reason: .permanent, error: h.error("market closed")))], queue: h.queue)
        let dead = try await h.driver.deadLetters(queue: h.queue, filter: .init())
        #expect(dead.count == 1)
        #expect(dead.first?.reason == .permanent)
        #expect(dead.first?.message == "market closed")
        #expect(dead.first?.envelope?.payload == job.payload)
        #expect(dead.first?.envelope?.errors.map(\.error) == ["market closed"])
        let record = try #require(try await h.driver.job(job.id, queue: nil))
        #expect(record.status == .dead)
        #expect(record.deadLetterID == dead.first?.id)
        // The front shows users a permanent failure's reason and only a code for other deaths.
        #expect(record.deadReason == .permanent)
        #expect(try await h.driver.stats(queue: h.queue).inFlight == 0)
    }

    @Test("a snooze keeps its attempt", arguments: Harness.kinds)
    func snoozeKeepsAttempt(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.enqueue([h.envelope()])
        let fetched = try #require(try await h.fetch().first)
        try await h.driver.complete(
            [JobCompletion(job: fetched, outcome: .snooze(at: h.clock.nowMillis() + 5000))], queue: h.queue)
        #expect(try await h.driver.job(fetched.envelope.id, queue: h.queue)?.status == .scheduled)
        try await h.elapse(.seconds(4))
        #expect(try await h.promote() == 0)
        try await h.elapse(.seconds(1))
        #expect(try await h.promote() == 1)
        let again = try #require(try await h.fetch().first)
        #expect(again.envelope.attempt == 1)
        #expect(again.envelope.snoozes == 1)
        #expect(again.envelope.errors.isEmpty)
    }

    @Test("a crashed consumer's jobs are reclaimed after the visibility timeout", arguments: Harness.kinds)
    func crashIsReclaimed(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.enqueue([h.envelope(), h.envelope()])
        let held = try await h.fetch("crashed")
        #expect(held.count == 2)
        // The crashed consumer never completes. Before the timeout nothing is reclaimable.
        let early = try await h.reclaim("rescuer", idleFor: .milliseconds(300), max: 10, maxDeliveries: 5)
        #expect(early.isEmpty)
        try await h.elapse(.milliseconds(350), real: true)
        let rescued = try await h.reclaim("rescuer", idleFor: .milliseconds(300), max: 10, maxDeliveries: 5)
        #expect(Set(rescued.map(\.envelope.id)) == Set(held.map(\.envelope.id)))
        #expect(rescued.allSatisfy { $0.deliveries == 2 })
        try await h.driver.complete(rescued.map(JobCompletion.succeeded), queue: h.queue)
        #expect(try await h.driver.stats(queue: h.queue).inFlight == 0)
        // The crashed consumer coming back late cannot settle it again.
        try await h.driver.complete(
            [JobCompletion(job: held[0], outcome: .retry(at: h.clock.nowMillis(), error: h.error("late")))], queue: h.queue)
        #expect(try await h.driver.stats(queue: h.queue).delayed == 0)
    }

    /// Issue 26, finding 7: a worker whose last attempt timed out ran the `onDead` hook of a job
    /// another worker had reclaimed, and ended that worker's send while it was still in flight.
    @Test("an entry is held by the consumer that fetched it, and by the reclaimer after a takeover", arguments: Harness.kinds)
    func holds(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        guard let driver = h.driver as? any EntryOwnershipDriver else {
            Issue.record("\(kind) cannot tell who holds an entry")
            return
        }
        try await h.enqueue([h.envelope()])
        let held = try #require(try await h.fetch("slow").first)
        #expect(try await driver.holder(of: held) == "slow")
        try await h.elapse(.milliseconds(350), real: true)
        let rescued = try #require(try await h.reclaim("rescuer", idleFor: .milliseconds(300)).first)
        #expect(try await driver.holder(of: held) == "rescuer", "the slow consumer lost it")
        try await h.driver.complete([JobCompletion.succeeded(rescued)], queue: h.queue)
        #expect(try await driver.holder(of: rescued) == nil, "settled: nobody holds it")
    }

    @Test("every renewed lease is kept, not only the first", arguments: Harness.kinds)
    func renewKeepsEveryLease(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.enqueue((0..<5).map { _ in h.envelope() })
        let held = try await h.fetch("busy")
        #expect(held.count == 5)
        try await h.elapse(.milliseconds(800), real: true)
        try await h.driver.renew(queue: h.queue, consumer: "busy", entryIDs: held.map(\.entryID))
        try await h.elapse(.milliseconds(300), real: true)
        let taken = try await h.reclaim("other", idleFor: .seconds(1), max: 10, maxDeliveries: 5)
        #expect(taken.isEmpty)
    }

    @Test("reclaim finds idle entries behind many that live consumers hold", arguments: Harness.kinds)
    func reclaimLooksPastLiveEntries(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.enqueue((0..<3).map { _ in h.envelope() })
        let crashed = try await h.fetch("crashed")
        try await h.elapse(.milliseconds(350), real: true)
        // 60 entries held by a live consumer sit after the idle ones in the pending list.
        try await h.enqueue((0..<60).map { _ in h.envelope() })
        _ = try await h.fetch("alive", max: 60)
        try await h.driver.renew(queue: h.queue, consumer: "crashed", entryIDs: [])
        let taken = try await h.reclaim("rescuer", idleFor: .milliseconds(300), max: 2, maxDeliveries: 5)
        #expect(taken.count == 2)
        #expect(Set(taken.map(\.entryID)).isSubset(of: Set(crashed.map(\.entryID))))
    }

    @Test("a late success after a takeover does not overwrite the job's status", arguments: Harness.kinds)
    func lateAckKeepsStatus(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.enqueue([h.envelope()])
        let slow = try #require(try await h.fetch("slow").first)
        try await h.elapse(.milliseconds(150), real: true)
        let rescued = try #require(try await h.reclaim("rescuer", idleFor: .milliseconds(100), max: 1, maxDeliveries: 5).first)
        try await h.driver.complete(
            [JobCompletion(job: rescued, outcome: .retry(at: h.clock.nowMillis() + 60_000, error: h.error("x")))], queue: h.queue)
        try await h.driver.complete([.succeeded(slow)], queue: h.queue)
        #expect(try await h.driver.job(slow.envelope.id, queue: h.queue)?.status == .retrying)
        #expect(try await h.driver.stats(queue: h.queue).delayed == 1)
    }

    @Test("poison goes to the dead-letter queue after N deliveries", arguments: Harness.kinds)
    func poisonGoesDead(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let job = h.envelope()
        try await h.enqueue([job])
        _ = try await h.fetch("a")
        for round in 2...3 {
            try await h.elapse(.milliseconds(120), real: true)
            let taken = try await h.reclaim("c\(round)", idleFor: .milliseconds(100), max: 10, maxDeliveries: 2)
            if round == 2 {
                #expect(taken.first?.deliveries == 2)
            } else {
                #expect(taken.isEmpty)
            }
        }
        let dead = try await h.driver.deadLetters(queue: h.queue, filter: .init())
        #expect(dead.count == 1)
        #expect(dead.first?.reason == .poison)
        #expect(dead.first?.jobID == job.id.rawValue)
        #expect(try await h.driver.job(job.id, queue: h.queue)?.status == .dead)
        #expect(try await h.driver.stats(queue: h.queue).inFlight == 0)
    }

    @Test("delayed jobs come due in order", arguments: Harness.kinds)
    func delayedInOrder(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let now = h.clock.nowMillis()
        let jobs = [3000, 1000, 2000].map { h.envelope("{\"at\":\($0)}", notBefore: now + Int64($0)) }
        try await h.enqueue(jobs)
        #expect(try await h.driver.job(jobs[0].id, queue: h.queue)?.status == .scheduled)
        let result = try await h.driver.promoteDue(queue: h.queue, limit: 100)
        #expect(result.promoted == 0)
        #expect(result.nextDue == now + 1000)
        try await h.elapse(.milliseconds(1500))
        #expect(try await h.promote() == 1)
        try await h.elapse(.seconds(2))
        #expect(try await h.promote() == 2)
        let order = try await h.fetch().map { String(decoding: $0.envelope.payload, as: UTF8.self) }
        #expect(order == ["{\"at\":1000}", "{\"at\":2000}", "{\"at\":3000}"])
    }

    @Test("an idempotency key returns the first job's id", arguments: Harness.kinds)
    func idempotentEnqueue(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let first = h.envelope(key: "bet-42")
        let second = h.envelope(key: "bet-42")
        let results = try await h.enqueue([first]) + h.enqueue([second, h.envelope(key: "bet-43")])
        #expect(results[0] == EnqueueResult(id: first.id, duplicate: false))
        #expect(results[1] == EnqueueResult(id: first.id, duplicate: true))
        #expect(results[2].duplicate == false)
        #expect(try await h.fetch().count == 2)
    }

    /// A client that sent stake 1 and then stake 500 under one key must not be told its 500 was taken.
    @Test("a key repeated with another fingerprint is a duplicate that says so, and nothing is enqueued", arguments: Harness.kinds)
    func idempotencyFingerprints(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let first = h.envelope("{\"stake\":1}", key: "tap-1", fingerprint: "f1")
        #expect(try await h.enqueue([first]) == [EnqueueResult(id: first.id, duplicate: false)])
        let results = try await h.enqueue([
            h.envelope("{\"stake\":1}", key: "tap-1", fingerprint: "f1"),
            h.envelope("{\"stake\":500}", key: "tap-1", fingerprint: "f2"),
            // Without a fingerprint (an older producer) nothing can be compared.
            h.envelope("{\"stake\":500}", key: "tap-1"),
        ])
        #expect(
            results == [
                EnqueueResult(id: first.id, duplicate: true), EnqueueResult(id: first.id, duplicate: true, fingerprintDiffers: true),
                EnqueueResult(id: first.id, duplicate: true),
            ])
        // A key first kept without a fingerprint matches any request, as before.
        let bare = h.envelope(key: "tap-2")
        _ = try await h.enqueue([bare])
        #expect(try await h.enqueue([h.envelope(key: "tap-2", fingerprint: "f3")]) == [EnqueueResult(id: bare.id, duplicate: true)])
        let fetched = try await h.fetch()
        #expect(fetched.map(\.envelope.id) == [first.id, bare.id])
    }

    @Test("cancel stops a waiting job and refuses a running one", arguments: Harness.kinds)
    func cancel(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let scheduled = h.envelope(notBefore: h.clock.nowMillis() + 10_000)
        let queued = h.envelope()
        let running = h.envelope()
        try await h.enqueue([running])
        let held = try await h.fetch()
        #expect(held.map(\.envelope.id) == [running.id])
        try await h.enqueue([scheduled, queued])

        #expect(try await h.driver.cancel(scheduled.id, queue: nil) == .cancelled)
        #expect(try await h.driver.cancel(queued.id, queue: h.queue) == .cancelled)
        #expect(try await h.driver.cancel(running.id, queue: h.queue) == .notCancellable(.running))
        #expect(try await h.driver.cancel(JobID.generate(millis: 0), queue: h.queue) == .notFound)
        #expect(try await h.driver.job(scheduled.id, queue: nil)?.status == .cancelled)

        try await h.elapse(.seconds(20))
        #expect(try await h.promote() == 0)
        #expect(try await h.fetch().isEmpty)
        #expect(try await h.driver.cancel(scheduled.id, queue: h.queue) == .notCancellable(.cancelled))
    }

    @Test("dead letters can be retried and deleted", arguments: Harness.kinds)
    func deadLetterRetryAndDelete(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        let a = h.envelope("{\"a\":1}", kind: "k.one")
        let b = h.envelope("{\"b\":1}", kind: "k.two")
        try await h.enqueue([a, b])
        let fetched = try await h.fetch()
        try await h.driver.complete(
            fetched.map { JobCompletion(job: $0, outcome: .dead(reason: .exhausted, error: h.error("down"))) }, queue: h.queue)
        let onlyOne = try await h.driver.deadLetters(queue: h.queue, filter: .init(kind: "k.one"))
        #expect(onlyOne.map(\.jobID) == [a.id.rawValue])

        let redriven = try await h.driver.redrive([onlyOne[0].id], queue: h.queue)
        #expect(redriven.first?.jobID == a.id)
        let again = try #require(try await h.fetch().first)
        #expect(again.envelope.id == a.id)
        #expect(again.envelope.attempt == 1)
        #expect(again.envelope.redrives == 1)
        #expect(try await h.driver.redrive([onlyOne[0].id], queue: h.queue).first?.jobID == nil)

        // Delete by job id works as well as by dead-letter id.
        #expect(try await h.driver.deleteDeadLetters([b.id.rawValue], queue: h.queue) == 1)
        #expect(try await h.driver.deadLetters(queue: h.queue, filter: .init()).isEmpty)
    }

    @Test("an undecodable entry goes to the dead-letter queue and the rest still flows", arguments: Harness.kinds)
    func undecodableEntry(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.addRaw([("kind", "x.y"), ("payload", "{}")])  // no id
        let good = h.envelope()
        try await h.enqueue([good])
        let fetched = try await h.fetch()
        #expect(fetched.map(\.envelope.id) == [good.id])
        let dead = try await h.driver.deadLetters(queue: h.queue, filter: .init())
        #expect(dead.count == 1)
        #expect(dead.first?.reason == .undecodable)
        #expect(dead.first?.message.contains("missing field 'id'") == true)
        #expect(dead.first?.rawFields.map(\.0) == ["kind", "payload"])
        #expect(dead.first?.kind == "x.y")
        #expect(try await h.driver.redrive([dead[0].id], queue: h.queue).first?.error?.contains("undecodable") == true)
    }

    @Test("a foreign producer's minimal XADD is a valid job", arguments: Harness.kinds)
    func minimalForeignEntry(_ kind: String) async throws {
        let h = try await Harness.make(kind)
        try await h.addRaw([("id", "ext-1"), ("kind", "system.noop"), ("payload", "{\"tag\":\"py\"}")])
        let job = try #require(try await h.fetch().first)
        #expect(job.envelope.id.rawValue == "ext-1")
        #expect(job.envelope.attempt == 1)
        #expect(job.envelope.enqueuedAt > 0)
    }
}
