import Jobs
import JobsWorker
import Postgres
import ThePredKinds

/// Records who referred a user, once, and advances the referrer's REFERRAL mission.
struct ReferralsClaimHandler: Sendable {
    let db: any PostgresClient

    func handle(_ p: ReferralsClaim, _ context: JobContext) async throws {
        let code = p.code.trimmingWhitespace()
        guard (1...64).contains(code.count) else { throw JobFailure.rejected("referral code must be 1 to 64 characters") }
        let outbox = Outbox(sourceJob: context.id)
        try await db.transaction { tx in
            let referrer = try tx.query("SELECT id, telegram_id FROM users WHERE referral_code = $1", [.text(code)])
            guard !referrer.isEmpty else { throw JobFailure.rejected("unknown referral code") }
            let referrerID = try referrer.int(0, "id")
            guard try referrer.int(0, "telegram_id") != p.telegramID else {
                throw JobFailure.rejected("a user cannot refer themselves")
            }
            let user = try Users.register(telegramID: p.telegramID, username: p.username, in: tx)
            let userID = try user.int(0, "id")
            if let already = user.optionalInt(0, "referred_by") {
                guard already == referrerID else { throw JobFailure.rejected("user was already referred by someone else") }
                return  // this claim ran before
            }
            try tx.query("UPDATE users SET referred_by = $2 WHERE id = $1", [.int(userID), .int(referrerID)])
            try outbox.add(
                MissionsProgress.kind, MissionsProgress(eventID: "referral:\(userID)", event: .referral, userID: referrerID),
                in: tx)
        }
        try await outbox.flush(db, client: context.client)
    }
}
