import Jobs
import JobsWorker
import Logging
import Postgres
import Producers
import ThePredKinds

/// Walks a broadcast's recipients by user id in chunks, queues a `telegram.send.bulk` for each,
/// and moves the checkpoint after every chunk. Memory holds one chunk, whatever the audience.
///
/// The sends are produced as the lane drains: while the bulk queue already holds `topUp` sends
/// (a few seconds' worth), the job snoozes a second and goes on from its checkpoint, so a
/// 100,000-user broadcast keeps a few hundred sends in Redis rather than all of them.
///
/// A chunk is queued before its checkpoint moves. A fan-out that dies in between queues that
/// chunk again on its next run; the idempotency key `broadcast:<id>:<telegram id>` makes those
/// the same jobs, so nobody gets two.
struct BroadcastFanoutHandler: Sendable {
    let db: any PostgresClient
    var chunkSize = 1_000
    var publisher: BroadcastPublisher?
    /// Most sends waiting in the bulk queue before the fan-out waits: about 10 s of the free lane
    /// (30/s), 5 s of the paid one (1000/s).
    var topUp = (free: 300, paid: 5_000)

    func handle(_ p: BroadcastFanout, _ context: JobContext) async throws {
        defer { publisher?.changed(p.broadcastID) }
        try await fanOut(p, context)
    }

    private func fanOut(_ p: BroadcastFanout, _ context: JobContext) async throws {
        let id = p.broadcastID
        let started = try await db.query(
            """
            UPDATE broadcasts SET status = 'PROCESSING', started_at = coalesce(started_at, now())
            WHERE id = $1 AND status IN ('PENDING', 'PROCESSING')
            RETURNING text, parse_mode, photo_url, target, telegram_id, paid, fanout_after_user_id,
                      fanout_completed_at IS NOT NULL AS fanout_done
            """, [.int(id)])
        guard !started.isEmpty else {
            let row = try await db.query("SELECT status FROM broadcasts WHERE id = $1", [.int(id)])
            guard let status = row[0, "status"] else { throw JobFailure.permanent("broadcast \(id) does not exist") }
            context.logger.info("broadcast is \(status); nothing to fan out", metadata: ["broadcast": "\(id)"])
            return
        }
        if !started.bool(0, "fanout_done") {
            let template = TelegramSend(
                telegramID: 0, kind: .broadcast, text: try started.string(0, "text"),
                parseMode: TelegramSend.ParseMode(rawValue: try started.string(0, "parse_mode")) ?? .html,
                photoURL: started[0, "photo_url"], broadcastID: id, paid: started.bool(0, "paid") ? true : nil)
            let finished: Bool
            if try started.string(0, "target") == "user" {
                finished = try await fanOutToOne(try started.int(0, "telegram_id"), template, context)
            } else {
                finished = try await fanOutToAll(after: try started.int(0, "fanout_after_user_id"), template, context)
            }
            guard finished else {
                context.logger.info("broadcast cancelled during fan-out", metadata: ["broadcast": "\(id)"])
                return
            }
        }
        try await BroadcastProgress.completeIfDone(id, db: db)
    }

    /// Returns false when the broadcast was cancelled on the way.
    private func fanOutToAll(after start: Int64, _ template: TelegramSend, _ context: JobContext) async throws -> Bool {
        let id = template.broadcastID!
        var after = start
        var queued: Int64 = 0
        let began = ContinuousClock.now
        while true {
            let room = try await backlogRoom(paid: template.paid == true, context)
            guard room > 0 else {
                throw JobFailure.snooze(for: .seconds(1), reason: "the bulk queue holds enough sends; the fan-out goes on as it drains")
            }
            let users = try await db.query(
                """
                SELECT id, telegram_id FROM users WHERE id > $1 AND NOT banned AND NOT unreachable ORDER BY id LIMIT $2
                """, [.int(after), .int(Int64(min(chunkSize, room)))])
            if users.isEmpty { break }
            var jobs: [(TelegramSend, EnqueueOptions)] = []
            jobs.reserveCapacity(users.count)
            for i in 0..<users.count {
                var message = template
                message.telegramID = try users.int(i, "telegram_id")
                jobs.append((message, .idempotent("broadcast:\(id):\(message.telegramID)")))
            }
            _ = try await context.client.enqueue(TelegramSend.bulkKind, jobs)
            let last = try users.int(users.count - 1, "id")
            let moved = try await db.query(
                """
                UPDATE broadcasts SET fanout_after_user_id = $3, total_recipients = total_recipients + $4
                WHERE id = $1 AND status = 'PROCESSING' AND fanout_after_user_id = $2 RETURNING id
                """, [.int(id), .int(after), .int(last), .int(Int64(users.count))])
            // Cancelled, or another run of this job moved the checkpoint: this run stops.
            if moved.isEmpty { return false }
            context.checkpointed()
            after = last
            queued += Int64(users.count)
            if queued % 50_000 < Int64(chunkSize) {
                context.logger.info(
                    "fan-out progress",
                    metadata: ["broadcast": "\(id)", "queued": "\(queued)", "elapsed": "\(ContinuousClock.now - began)"])
            }
        }
        return try await finishFanout(id)
    }

    /// How many more sends the bulk queue may take now.
    private func backlogRoom(paid: Bool, _ context: JobContext) async throws -> Int {
        try await QueueRoom.room(
            in: TelegramSend.bulkKind.queue, cap: paid ? topUp.paid : topUp.free, fallback: chunkSize, client: context.client)
    }

    private func fanOutToOne(_ telegramID: Int64, _ template: TelegramSend, _ context: JobContext) async throws -> Bool {
        let id = template.broadcastID!
        // A registered user who is banned or unreachable gets nothing; an unknown id is tried.
        let skip = try await db.query(
            "SELECT 1 FROM users WHERE telegram_id = $1 AND (banned OR unreachable)", [.int(telegramID)])
        var count: Int64 = 0
        if skip.isEmpty {
            var message = template
            message.telegramID = telegramID
            _ = try await context.client.enqueue(TelegramSend.bulkKind, message, options: .idempotent("broadcast:\(id):\(telegramID)"))
            count = 1
        }
        let moved = try await db.query(
            "UPDATE broadcasts SET total_recipients = $2 WHERE id = $1 AND status = 'PROCESSING' RETURNING id",
            [.int(id), .int(count)])
        if moved.isEmpty { return false }
        return try await finishFanout(id)
    }

    private func finishFanout(_ id: Int64) async throws -> Bool {
        let done = try await db.query(
            """
            UPDATE broadcasts SET fanout_completed_at = coalesce(fanout_completed_at, now())
            WHERE id = $1 AND status = 'PROCESSING' RETURNING total_recipients
            """, [.int(id)])
        return !done.isEmpty
    }
}
