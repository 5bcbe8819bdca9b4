import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Records a broadcast asked for by a producer without a database, once per job id.
struct BroadcastCreateHandler: Sendable {
    let db: any PostgresClient
    var publisher: BroadcastPublisher?

    func handle(_ p: BroadcastCreate, _ context: JobContext) async throws {
        do {
            // The request's time was checked when it was made; a late job still makes it.
            var request = p.request
            if let at = request.scheduledAtMillis, at <= context.enqueuedAt { request.scheduledAtMillis = nil }
            let made = try await Broadcasts.create(
                request, requestID: context.id.rawValue, db: db, client: context.client,
                now: min(context.enqueuedAt, SystemJobClock().nowMillis()))
            try await publisher?.publish(made, requestID: context.id.rawValue)
            context.logger.info("broadcast created", metadata: ["broadcast": "\(made.id)", "status": "\(made.status)"])
        } catch let error as FieldError {
            throw JobFailure.rejected("invalid broadcast: \(error)")
        }
    }
}
