import Jobs
import JobsWorker
import Logging
import Postgres
import Producers
import ThePredKinds

/// Runs `backlogs.sweep`: every open backlog whose producer has ended gets a replacement
/// (`JobClient.ensureProducer`), which goes on from the backlog's checkpoint. Broadcasts keep
/// the id of the job that carries them on in `job_id`, so `thepred broadcasts` names it.
struct BacklogsSweepHandler: Sendable {
    let db: any PostgresClient

    func handle(_ payload: BacklogsSweep, _ context: JobContext) async throws {
        let age = Int64(min(86_400, max(1, payload.olderThanSeconds ?? 60)))
        let broadcasts = try await db.query(
            """
            SELECT id FROM broadcasts
             WHERE status IN ('PENDING', 'PROCESSING') AND fanout_completed_at IS NULL
               AND created_at < now() - make_interval(secs => $1::double precision) AND coalesce(scheduled_at, created_at) < now() - make_interval(secs => $1::double precision)
             ORDER BY id LIMIT 1000
            """, [.int(age)])
        for r in 0..<broadcasts.count {
            let id = try broadcasts.int(r, "id")
            let check = try await context.client.ensureProducer(
                BroadcastFanout.kind, BroadcastFanout(broadcastID: id), key: BroadcastFanout.idempotencyKey(broadcast: id))
            switch check {
            case .replaced(_, let new), .started(let new):
                try await db.query("UPDATE broadcasts SET job_id = $2 WHERE id = $1", [.int(id), .text(new.rawValue)])
            case .live, .exhausted: break
            }
            note(check, "broadcast", id, context.logger)
        }
        let markets = try await db.query(
            """
            SELECT market_id FROM market_notifications
             WHERE (produced_at IS NULL OR events_done_at IS NULL) AND created_at < now() - make_interval(secs => $1::double precision)
             ORDER BY market_id LIMIT 1000
            """, [.int(age)])
        for r in 0..<markets.count {
            let id = try markets.int(r, "market_id")
            let check = try await context.client.ensureProducer(
                MarketsNotify.kind, MarketsNotify(marketID: id), key: MarketsNotify.idempotencyKey(market: id))
            note(check, "market", id, context.logger)
        }
    }

    private func note(_ check: ProducerCheck, _ what: String, _ id: Int64, _ logger: Logger) {
        switch check {
        case .live: break
        case .started(let new):
            logger.warning(
                "backlog had no producer (its job and key are gone); one starts from its checkpoint",
                metadata: [what: "\(id)", "job": "\(new)"])
        case .replaced(let old, let new):
            logger.warning(
                "backlog's producer had ended; a new one goes on from its checkpoint",
                metadata: [what: "\(id)", "ended": "\(old)", "job": "\(new)"])
        case .exhausted(let last):
            logger.error(
                "backlog's producers ended 10 times in a row; left to an operator (see the dead-letter queue)",
                metadata: [what: "\(id)", "last": "\(last)"])
        }
    }
}
