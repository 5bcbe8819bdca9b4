@testable import Game
import Foundation
import Jobs
import Producers
import TestSupport
import Testing
import ThePredKinds

@Suite("backlogs.sweep", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct BacklogsSweepTests {
    /// Issue 26, finding 5: a buried `broadcast.fanout` left its broadcast PROCESSING for ever, and
    /// nothing could queue it again while its key named the dead job.
    @Test("a broadcast whose fan-out was buried gets a new one; a live one is left alone")
    func buriedFanout() async throws {
        let f = try await DomainFixture.make()
        for i in 0..<3 { _ = try await f.user(telegramID: 7_100_000 + Int64(i)) }
        let made = try await Broadcasts.create(BroadcastRequest(text: "hello", target: .all), db: f.db, client: f.client)
        let queue = BroadcastFanout.kind.queue
        let fetched = try #require(try await f.driver.fetch(queue: queue, consumer: "t", maxCount: 10, blockFor: .zero).first)
        let first = fetched.envelope.id
        // The run that took it failed its last attempt: buried.
        let error = AttemptError(attempt: 10, at: SystemJobClock().nowMillis(), error: "stuck")
        try await f.driver.complete([JobCompletion(job: fetched, outcome: .dead(reason: .exhausted, error: error))], queue: queue)
        try await f.db.query("UPDATE broadcasts SET created_at = now() - interval '2 minutes' WHERE id = $1", [.int(made.id)])
        try await f.run(BacklogsSweep.kind, BacklogsSweep())
        let again = try await f.driver.fetch(queue: queue, consumer: "t", maxCount: 10, blockFor: .zero)
        #expect(again.count == 1)
        let second = try #require(again.first?.envelope)
        #expect(second.id != first)
        #expect(try JSONCoding.decoder.decode(BroadcastFanout.self, from: Data(second.payload)) == BroadcastFanout(broadcastID: made.id))
        #expect(try await f.string("SELECT job_id FROM broadcasts WHERE id = $1", [.int(made.id)]) == second.id.rawValue)
        // The replacement is live (taken, running): the next sweep makes no other.
        try await f.run(BacklogsSweep.kind, BacklogsSweep())
        #expect(try await f.driver.fetch(queue: queue, consumer: "t", maxCount: 10, blockFor: .zero).isEmpty)
        try await f.drop()
    }

    @Test("the scheduler sweeps every minute")
    func scheduled() throws {
        let sweep = try #require(AppSchedules.all().first { $0.name == "backlogs-sweep" })
        #expect(sweep.queue == BacklogsSweep.kind.queue)
    }
}
