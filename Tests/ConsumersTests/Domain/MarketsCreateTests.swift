@testable import Game
import Jobs
import TestSupport
import Testing
import ThePredKinds

@Suite("markets.create", .enabled(if: TestPostgres.available, "needs THEPRED_TEST_DATABASE_URL (ops/test sets it)"))
struct MarketsCreateTests {
    @Test("creates a market once per job; bad titles and past end dates are refused and change nothing")
    func create() async throws {
        let f = try await DomainFixture.make()
        let future = SystemJobClock().nowMillis() + 3_600_000
        let id = JobID.generate(millis: 7)
        let payload = MarketsCreate(title: "  Will it snow? ", category: .politics, endsAtMillis: future, promoted: true)
        try await f.run(MarketsCreate.kind, payload, id: id)
        try await f.run(MarketsCreate.kind, payload, id: id, deliveries: 2)
        let row = try await f.db.query("SELECT title, category, status, promoted, job_id FROM markets")
        #expect(row.count == 1)
        #expect(row[0, "title"] == "Will it snow?" && row[0, "category"] == "Politics" && row[0, "status"] == "Active")
        #expect(row.bool(0, "promoted") && row[0, "job_id"] == id.rawValue)

        let before = try await f.fingerprint()
        #expect(
            try await f.rejection(MarketsCreate.kind, MarketsCreate(title: "   ", category: .tech, endsAtMillis: future))
                == "title must be 1 to 300 characters")
        #expect(
            try await f.rejection(
                MarketsCreate.kind, MarketsCreate(title: String(repeating: "x", count: 301), category: .tech, endsAtMillis: future))
                == "title must be 1 to 300 characters")
        #expect(
            try await f.rejection(MarketsCreate.kind, MarketsCreate(title: "Late", category: .tech, endsAtMillis: 1_000))
                == "end date must be in the future")
        // Found by ops/chaos: a time PostgreSQL cannot hold was retried as transient, forever. A data
        // exception (SQLSTATE 22) fails the same way every time: permanent.
        #expect(
            try await f.failure(MarketsCreate.kind, MarketsCreate(title: "Far", category: .tech, endsAtMillis: .max))
                .contains("a payload value PostgreSQL cannot take"))
        #expect(try await f.fingerprint() == before)
        try await f.drop()
    }
}
