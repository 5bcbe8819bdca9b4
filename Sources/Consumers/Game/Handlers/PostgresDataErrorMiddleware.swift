import Jobs
import JobsWorker
import Postgres

/// A data exception from PostgreSQL (SQLSTATE class 22: a time out of range, a number too
/// large) fails the same way on every attempt, so it ends the job at once instead of retrying.
struct PostgresDataErrorMiddleware: JobMiddleware {
    func run(_ job: JobContext, next: @Sendable (JobContext) async throws -> Void) async throws {
        do {
            try await next(job)
        } catch let error as PostgresError where error.sqlState?.hasPrefix("22") == true {
            throw JobFailure.permanent("a payload value PostgreSQL cannot take: \(error.message)")
        }
    }
}
