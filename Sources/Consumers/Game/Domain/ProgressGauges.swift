import Jobs
import Metrics
import Postgres
import Synchronization
import ThePredKinds

/// Progress read from PostgreSQL at scrape time: each Telegram class's whole backlog (queued and
/// still to produce), market notifications to produce, and the broadcasts being sent.
///
/// At most once per interval per process (5 s by default): the backlog counts scan the users
/// behind each fan-out's checkpoint, and every worker is scraped.
public final class ProgressGauges: Sendable {
    private let interval: Int64
    private let state = Mutex<(last: Int64, queues: [String: QueueStats])>((.min, [:]))

    public init(minimumIntervalMillis: Int64 = 5000) { interval = minimumIntervalMillis }

    /// Queue figures the Telegram backlog adds to; the latest are kept for the next refresh.
    public func queues(_ stats: [QueueStats]) {
        state.withLock { s in for q in stats { s.queues[q.queue] = q } }
    }

    public func refresh(db: any PostgresClient, nowMillis: Int64) async throws {
        let queues: [String: QueueStats]? = state.withLock { s in
            if s.last != .min && nowMillis - s.last < interval { return nil }
            s.last = nowMillis
            return s.queues
        }
        guard let queues else { return }
        let results = try await MarketNotificationBacklog.unproduced(db: db)
        let bulk = try await Broadcasts.unproduced(db: db)
        Gauge(label: "thepred_market_notifications_pending").record(Double(results))
        for priority in TelegramSend.Priority.allCases {
            let toProduce: Int64 =
                switch priority {
                case .interactive: 0
                case .results: results
                case .bulk: bulk
                }
            let q = queues[TelegramSend.kind(for: priority).queue.rawValue]
            let queued = q.map { $0.ready + $0.delayed + $0.inFlight } ?? 0
            Gauge(label: "thepred_telegram_backlog", dimensions: [("class", priority.rawValue)]).record(Double(queued) + Double(toProduce))
        }
        let rows = try await db.query(
            """
            SELECT count(*) AS n, coalesce(sum(b.total_recipients), 0)::bigint AS total,
                   coalesce(sum(c.sent), 0)::bigint AS sent, coalesce(sum(c.failed), 0)::bigint AS failed,
                   coalesce(sum(c.cancelled), 0)::bigint AS cancelled
              FROM broadcasts b
              LEFT JOIN LATERAL (SELECT sum(sent) AS sent, sum(failed) AS failed, sum(cancelled) AS cancelled
                                   FROM broadcast_counts WHERE broadcast_id = b.id) c ON true
             WHERE b.status = 'PROCESSING'
            """)
        let (sent, failed, cancelled) = (try rows.int(0, "sent"), try rows.int(0, "failed"), try rows.int(0, "cancelled"))
        Gauge(label: "thepred_broadcasts_processing").record(Double(try rows.int(0, "n")))
        let pending = max(0, try rows.int(0, "total") - sent - failed - cancelled)
        for (state, n) in [("sent", sent), ("failed", failed), ("cancelled", cancelled), ("pending", pending)] {
            Gauge(label: "thepred_broadcast_messages", dimensions: [("state", state)]).record(Double(n))
        }
    }
}
