@testable import Game
import Foundation
import Jobs
import Producers
import TestSupport
import Testing
import ThePredKinds

@Suite("outbox.sweep", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct OutboxSweepTests {
    /// Found by ops/chaos (seed 71827): a `missions.progress` job committed its reward and outbox row,
    /// then vanished with a Redis that lost its last writes; nothing else ever read the row, so the
    /// user's MISSION_COMPLETED message was never sent.
    @Test("a row its job left behind is enqueued once by the sweep; a young row is left to its job")
    func leftBehind() async throws {
        let f = try await DomainFixture.make()
        let message = TelegramSend(telegramID: 5_000_071, kind: .missionCompleted, text: "done", parseMode: .html)
        let payload = String(decoding: try JSONCoding.encoder.encode(message), as: UTF8.self)
        // The vanished job's row, two minutes old, and a row its (live) job is about to flush.
        try await f.db.query(
            "INSERT INTO job_outbox (source_job_id, kind, payload, created_at) VALUES ('gone', $1, $2, now() - interval '2 minutes')",
            [.text(TelegramSend.resultsKind.name.rawValue), .text(payload)])
        try await f.db.query(
            "INSERT INTO job_outbox (source_job_id, kind, payload) VALUES ('running', $1, $2)",
            [.text(TelegramSend.resultsKind.name.rawValue), .text(payload)])
        try await f.run(OutboxSweep.kind, OutboxSweep())
        let sent = try await f.take(TelegramSend.resultsKind)
        #expect(sent.map(\.telegramID) == [5_000_071])
        #expect(try await f.int("SELECT count(*) FROM job_outbox WHERE source_job_id = 'running'") == 1)
        #expect(try await f.int("SELECT count(*) FROM job_outbox WHERE source_job_id = 'gone'") == 0)
        // A second sweep finds nothing more to do.
        try await f.run(OutboxSweep.kind, OutboxSweep())
        #expect(try await f.take(TelegramSend.resultsKind).isEmpty)
        try await f.drop()
    }

    @Test("the scheduler sweeps every minute")
    func scheduled() throws {
        let sweep = try #require(AppSchedules.all().first { $0.name == "outbox-sweep" })
        #expect(sweep.queue == OutboxSweep.kind.queue)
    }
}
