import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Opens a market. The job id is stored with it, so a redelivered job creates nothing new.
struct MarketsCreateHandler: Sendable {
    let db: any PostgresClient

    func handle(_ p: MarketsCreate, _ context: JobContext) async throws {
        let title = p.title.trimmingWhitespace()
        guard (1...300).contains(title.count) else { throw JobFailure.rejected("title must be 1 to 300 characters") }
        guard p.description.count <= 5_000 else { throw JobFailure.rejected("description must be at most 5000 characters") }
        let jobID = context.id.rawValue
        let id = try await db.transaction { tx -> Int64 in
            let existing = try tx.query("SELECT id FROM markets WHERE job_id = $1", [.text(jobID)])
            if !existing.isEmpty { return try existing.int(0, "id") }
            let future = try tx.query("SELECT to_timestamp($1::bigint / 1000.0) > now() AS future", [.int(p.endsAtMillis)])
            guard future.bool(0, "future") else { throw JobFailure.rejected("end date must be in the future") }
            let row = try tx.query(
                """
                INSERT INTO markets (title, description, category, end_date, promoted, job_id)
                VALUES ($1, $2, $3, to_timestamp($4::bigint / 1000.0), $5, $6) RETURNING id
                """,
                [
                    .text(title), .text(p.description), .text(p.category.rawValue), .int(p.endsAtMillis), .bool(p.promoted),
                    .text(jobID),
                ])
            return try row.int(0, "id")
        }
        context.logger.info("market created", metadata: ["market_id": "\(id)", "title": "\(title)"])
    }
}
