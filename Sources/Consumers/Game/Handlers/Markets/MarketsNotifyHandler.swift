import Jobs
import JobsWorker
import Postgres
import Producers
import ThePredKinds

/// Produces a resolved market's settlement messages and its winners' mission events from
/// PostgreSQL as their queues drain (`MarketNotificationBacklog`).
///
/// Each run tops the results queue up to `topUp.messages` sends and the missions queue up to
/// `topUp.events` events, then snoozes a second while either backlog is left. The messages walk
/// the market's bets by id: a chunk is queued under the keys `notify:bet:<id>` before the cursor
/// moves, so a run that dies in between queues the same jobs again (and the delivery log sends
/// each effect once). The events are an outbox: queued, then their rows deleted; a repeat has the
/// same event id, which the missions handler skips.
struct MarketsNotifyHandler: Sendable {
    let db: any PostgresClient
    /// Rows per query, enqueue and checkpoint.
    var chunkSize = 1_000
    /// Most jobs waiting in each queue before the producer waits: about 10 s of the results class
    /// on the free lane, and a few seconds of the missions workers.
    var topUp = (messages: 300, events: 5_000)
    /// A run gives its worker slot back after this long, and goes on at its next delivery.
    var runFor: Duration = .seconds(30)

    struct Market {
        let id: Int64
        /// Escaped for Telegram's HTML once, not per message.
        let htmlTitle: String
    }

    func handle(_ p: MarketsNotify, _ context: JobContext) async throws {
        let state = try await self.state(of: p.marketID)
        var producing = state.producing
        var eventsLeft = state.eventsLeft
        let market = Market(id: p.marketID, htmlTitle: Notifications.escape(state.title))
        let began = ContinuousClock.now
        while producing || eventsLeft {
            try Task.checkCancellation()
            var progressed = false
            if eventsLeft {
                let room = try await QueueRoom.room(
                    in: MissionsProgress.kind.queue, cap: topUp.events, fallback: chunkSize, client: context.client)
                if room > 0 {
                    let n = try await queueEvents(market.id, limit: min(room, chunkSize), context.client)
                    if n > 0 { context.checkpointed() }
                    eventsLeft = n > 0
                    progressed = true
                }
            }
            if producing {
                let room = try await QueueRoom.room(
                    in: TelegramSend.resultsKind.queue, cap: topUp.messages, fallback: chunkSize, client: context.client)
                if room > 0 {
                    guard let more = try await queueMessages(market, limit: min(room, chunkSize), context) else {
                        // Another run moved the cursor (this one outlived its lease): not done, so not acked.
                        throw JobFailure.snooze(for: .milliseconds(100), reason: "another run of this job moved the cursor")
                    }
                    producing = more
                    progressed = true
                    context.checkpointed()
                }
            }
            guard producing || eventsLeft else { break }
            if !progressed {
                throw JobFailure.snooze(for: .seconds(1), reason: "the queues hold enough; the market's notifications go on as they drain")
            }
            if ContinuousClock.now - began > runFor {
                throw JobFailure.snooze(for: .zero, reason: "gives its slot back; goes on from the checkpoint")
            }
        }
        context.logger.info("market notifications produced", metadata: ["market_id": "\(market.id)"])
    }

    /// The backlog's state; a market resolved before the backlogs existed gets one now.
    private func state(of marketID: Int64) async throws -> (producing: Bool, eventsLeft: Bool, title: String) {
        let rows = try await db.transaction { tx -> PostgresRows in
            let market = try tx.query(
                """
                SELECT status, EXISTS (SELECT 1 FROM market_notifications WHERE market_id = $1) AS opened
                  FROM markets WHERE id = $1 FOR UPDATE
                """, [.int(marketID)])
            guard let status = market[0, "status"] else { throw JobFailure.permanent("market \(marketID) does not exist") }
            guard status != "Active" else { throw JobFailure.permanent("market \(marketID) is not resolved; nothing to notify") }
            if !market.bool(0, "opened") { try MarketNotificationBacklog.open(marketID, in: tx) }
            return try tx.query(
                """
                UPDATE market_notifications n SET started_at = coalesce(started_at, now()) FROM markets m
                 WHERE n.market_id = $1 AND m.id = n.market_id
                RETURNING n.produced_at IS NULL AS producing, n.events_done_at IS NULL AS events_left, m.title
                """, [.int(marketID)])
        }
        return (rows.bool(0, "producing"), rows.bool(0, "events_left"), try rows.string(0, "title"))
    }

    /// Queues the next chunk of messages and moves the cursor. Returns whether more may follow,
    /// or nil when another run of this job moved the cursor first.
    private func queueMessages(_ market: Market, limit: Int, _ context: JobContext) async throws -> Bool? {
        let cursor = try await db.query("SELECT after_bet_id FROM market_notifications WHERE market_id = $1", [.int(market.id)])
        let after = try cursor.int(0, "after_bet_id")
        let bets = try await db.query(
            """
            SELECT b.id, b.status, b.stake, b.potential_win, u.telegram_id, u.unreachable
              FROM bets b JOIN users u ON u.id = b.user_id
             WHERE b.market_id = $1 AND b.id > $2 ORDER BY b.id LIMIT $3
            """, [.int(market.id), .int(after), .int(Int64(limit))])
        if bets.isEmpty {
            try await db.query(
                "UPDATE market_notifications SET produced_at = coalesce(produced_at, now()) WHERE market_id = $1", [.int(market.id)])
            return false
        }
        var messages: [(TelegramSend, EnqueueOptions)] = []
        messages.reserveCapacity(bets.count)
        var skipped: Int64 = 0
        for r in 0..<bets.count {
            // Users who blocked the bot are not written to again (issue 4 marks them).
            if bets.bool(r, "unreachable") {
                skipped += 1
                continue
            }
            let id = try bets.int(r, "id")
            let status = try bets.string(r, "status")
            guard var message = Self.message(status, bets, r, market) else {
                throw JobsError(.conflict, "bet \(id) of market \(market.id) is still \(status); the market is resolved")
            }
            message.marketID = market.id
            messages.append((message, .idempotent("notify:bet:\(id)")))
        }
        if !messages.isEmpty { try await context.client.enqueue(TelegramSend.resultsKind, messages) }
        let moved = try await db.query(
            """
            UPDATE market_notifications SET after_bet_id = $3, queued = queued + $4, skipped = skipped + $5
             WHERE market_id = $1 AND after_bet_id = $2 RETURNING 1
            """,
            [
                .int(market.id), .int(after), .int(try bets.int(bets.count - 1, "id")), .int(Int64(messages.count)),
                .int(skipped),
            ])
        return moved.isEmpty ? nil : true
    }

    static func message(_ status: String, _ bets: PostgresRows, _ r: Int, _ market: Market) -> TelegramSend? {
        guard let telegramID = bets.optionalInt(r, "telegram_id"), let stake = bets.optionalInt(r, "stake") else { return nil }
        switch status {
        case "WON":
            guard let payout = bets.optionalInt(r, "potential_win") else { return nil }
            return Notifications.betWon(telegramID: telegramID, htmlTitle: market.htmlTitle, payout: payout)
        case "LOST": return Notifications.betLost(telegramID: telegramID, htmlTitle: market.htmlTitle, stake: stake)
        case "REFUNDED": return Notifications.refunded(telegramID: telegramID, htmlTitle: market.htmlTitle, stake: stake)
        default: return nil
        }
    }

    /// Queues the next winners' `bet_settled` events, then deletes their rows. Returns how many.
    private func queueEvents(_ marketID: Int64, limit: Int, _ client: JobClient) async throws -> Int {
        let winners = try await db.query(
            "SELECT user_id FROM settlement_winners WHERE market_id = $1 ORDER BY user_id LIMIT $2", [.int(marketID), .int(Int64(limit))])
        guard !winners.isEmpty else {
            try await db.query(
                "UPDATE market_notifications SET events_done_at = coalesce(events_done_at, now()) WHERE market_id = $1", [.int(marketID)])
            return 0
        }
        var users: [Int64] = []
        users.reserveCapacity(winners.count)
        for r in 0..<winners.count { users.append(try winners.int(r, "user_id")) }
        // Wins, streaks and ranks can complete missions; the id makes a repeat count once.
        try await client.enqueue(
            MissionsProgress.kind, users.map { MissionsProgress(eventID: "settle:\(marketID):\($0)", event: .betSettled, userID: $0) })
        try await db.query(
            "DELETE FROM settlement_winners WHERE market_id = $1 AND user_id = ANY($2::bigint[])", [.int(marketID), .bigintArray(users)])
        return users.count
    }
}
