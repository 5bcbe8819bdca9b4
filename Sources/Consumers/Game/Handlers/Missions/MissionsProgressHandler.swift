import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Advances a user's missions after an event, and completes each mission once: a MISSION ledger
/// row keyed `mission:<user>:<mission>` and a MISSION_COMPLETED message, in one transaction.
struct MissionsProgressHandler: Sendable {
    let db: any PostgresClient

    func handle(_ p: MissionsProgress, _ context: JobContext) async throws {
        guard p.userID != nil || p.telegramID != nil else { throw JobFailure.permanent("the event names no user") }
        guard !p.eventID.isEmpty, p.eventID.utf8.count <= 200 else {
            throw JobFailure.permanent("event_id must be 1 to 200 bytes")
        }
        let day = p.event == .dailyActivity ? p.day ?? LeaderboardPeriod.utcDay(context.enqueuedAt) : nil
        if let day, !LeaderboardPeriod.isValidDay(day) {
            throw JobFailure.permanent("day must be a date YYYY-MM-DD, got \(day)")
        }
        let outbox = Outbox(sourceJob: context.id)
        try await db.transaction { tx in
            let user: PostgresRows
            if let id = p.userID {
                user = try Users.lock(id: id, in: tx)
            } else if p.event == .dailyActivity {
                user = try Users.register(telegramID: p.telegramID!, username: nil, in: tx)
            } else {
                user = try Users.lock(telegramID: p.telegramID!, in: tx)
            }
            guard !user.isEmpty else { throw JobFailure.permanent("unknown user \(p.userID ?? p.telegramID ?? 0)") }
            let userID = try user.int(0, "id")
            let fresh = try tx.query(
                "INSERT INTO mission_events (event_id, user_id) VALUES ($1, $2) ON CONFLICT (event_id) DO NOTHING",
                [.text(p.eventID), .int(userID)])
            guard fresh.affected == 1 else { return }  // a replayed event changes nothing
            if let day {
                try tx.query(
                    "INSERT INTO user_active_days (user_id, day) VALUES ($1, $2::date) ON CONFLICT DO NOTHING",
                    [.int(userID), .text(day)])
            }
            // A mission a settlement completed is part of that settlement's results: a million-bet
            // market can complete thousands at once, and they must not crowd the interactive class.
            try Missions.advance(
                userID: userID, in: tx, outbox: outbox, messages: p.event == .betSettled ? TelegramSend.resultsKind : TelegramSend.kind)
        }
        // Also when the event was a replay: an earlier run may have crashed before this line.
        try await outbox.flush(db, client: context.client)
    }
}
