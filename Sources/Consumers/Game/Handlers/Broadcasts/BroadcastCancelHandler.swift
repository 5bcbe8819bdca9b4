import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Cancels a broadcast for a producer without a database. A missing broadcast is permanent.
struct BroadcastCancelHandler: Sendable {
    let db: any PostgresClient
    var publisher: BroadcastPublisher?

    func handle(_ p: BroadcastCancel, _ context: JobContext) async throws {
        guard let status = try await Broadcasts.cancel(p.broadcastID, db: db) else {
            throw JobFailure.permanent("broadcast \(p.broadcastID) does not exist")
        }
        try await publisher?.publish(status)
        context.logger.info("broadcast cancel asked", metadata: ["broadcast": "\(status.id)", "status": "\(status.status)"])
    }
}
