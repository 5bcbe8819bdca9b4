import Jobs
import Logging

/// Sends one message through the Bot API, paced by the fleet-wide limiter, and logs its end.
///
/// The one window for a duplicate: Telegram accepted the message and the worker died before the
/// SENT row was written (one local UPDATE, about a millisecond). The redelivered job then finds
/// the row still SENDING or FAILED and sends again; Telegram has no idempotency key to prevent it.
struct TelegramSendHandler: Sendable {
    let db: any PostgresClient
    let delivery: TelegramDelivery
    var publisher: BroadcastPublisher?

    func handle(_ p: TelegramSend, _ context: JobContext) async throws {
        defer { if let broadcast = p.broadcastID { publisher?.changed(broadcast) } }
        try await send(p, context)
    }

    private func send(_ p: TelegramSend, _ context: JobContext) async throws {
        let id = context.id
        let claim: DeliveryLog.Claim
        do {
            claim = try await DeliveryLog.claim(id, p, db: db)
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw JobFailure.permanent("broadcast \(p.broadcastID ?? 0) does not exist")
        }
        switch claim.status {
        case .sent:
            context.logger.info("already sent; not sending again", metadata: ["job": "\(id)"])
            return
        case .cancelled:
            return
        default: break
        }
        if claim.broadcastStatus == "CANCELLED" {
            try await DeliveryLog.record(id, p, status: .cancelled, attempted: false, error: "broadcast cancelled", db: db)
            return
        }
        if let problem = Self.problem(in: p) {
            try await DeliveryLog.record(id, p, status: .permanentFailure, attempted: false, error: problem, db: db)
            throw JobFailure.permanent(problem)
        }

        let paid = p.paid ?? false
        let reservation = try await delivery.limiter.reserve(
            delivery.limits.lanes(chatID: p.telegramID, paid: paid), horizon: delivery.limits.horizon)
        guard reservation.granted else {
            throw JobFailure.snooze(for: max(reservation.wait, .milliseconds(10)), reason: "rate limit: no send slot within the horizon")
        }
        if reservation.wait > .zero { try await Task.sleep(for: reservation.wait) }
        if reservation.wait > .milliseconds(250), let broadcastID = p.broadcastID,
            try await db.query("SELECT status FROM broadcasts WHERE id = $1", [.int(broadcastID)])[0, "status"] == "CANCELLED"
        {
            try await DeliveryLog.record(id, p, status: .cancelled, attempted: false, error: "broadcast cancelled", db: db)
            return
        }

        let message = TelegramOutgoing(chatID: p.telegramID, text: p.text, parseMode: p.parseMode.rawValue, photoURL: p.photoURL, paid: paid)
        let answer: TelegramAnswer
        do {
            answer = try await delivery.bot.send(message)
        } catch let error as TelegramTransportError {
            try await transient("\(error)", p, context)
        }
        if answer.ok {
            // First thing after the answer: this write closes the duplicate window.
            try await DeliveryLog.record(id, p, status: .sent, attempted: true, error: nil, messageID: answer.messageID, db: db)
            return
        }
        let code = answer.errorCode ?? answer.httpStatus
        let text = "\(code): \(answer.description ?? "no description")"
        switch code {
        case 429:
            let wait = Duration.seconds(max(1, answer.retryAfter ?? 1))
            try await delivery.limiter.pause(for: wait)
            try await DeliveryLog.note(id, error: text, db: db)
            context.logger.warning("Telegram asked the fleet to wait", metadata: ["retry_after": "\(wait)"])
            throw JobFailure.snooze(for: wait, reason: "Telegram 429, retry after \(wait)")
        case 403:
            try await DeliveryLog.record(id, p, status: .permanentFailure, attempted: true, error: text, db: db)
            // Blocked or deactivated: later broadcasts and notifications skip this user.
            try await db.query("UPDATE users SET unreachable = true WHERE telegram_id = $1 AND NOT unreachable", [.int(p.telegramID)])
            throw JobFailure.permanent("Telegram \(text)")
        case 400:
            try await DeliveryLog.record(id, p, status: .permanentFailure, attempted: true, error: text, db: db)
            throw JobFailure.permanent("Telegram \(text)")
        default:
            try await transient("Telegram \(text)", p, context)
        }
    }

    /// 5xx, timeouts, connection errors and unexpected answers: retried with the kind's backoff;
    /// the last attempt ends the message as PERMANENT_FAILURE and the job in the dead-letter queue.
    private func transient(_ error: String, _ p: TelegramSend, _ context: JobContext) async throws -> Never {
        let policy = TelegramSend.kind.retry
        if policy.allowsRetry(afterAttempt: context.attempt) {
            try await DeliveryLog.record(context.id, p, status: .failed, attempted: true, error: error, db: db)
            throw TelegramSendError(message: error)
        }
        let final = "gave up after \(context.attempt) attempts: \(error)"
        try await DeliveryLog.record(context.id, p, status: .permanentFailure, attempted: true, error: final, db: db)
        throw JobFailure.permanent(final)
    }

    /// What Telegram would refuse anyway, caught before spending a send slot.
    static func problem(in p: TelegramSend) -> String? {
        let limit = p.photoURL == nil ? BroadcastRequest.maxText : BroadcastRequest.maxCaption
        if p.text.isEmpty { return "message text is empty" }
        let length = BroadcastRequest.length(p.text)
        if length > limit { return "message is \(length) characters; Telegram takes at most \(limit)" }
        return nil
    }
}

/// A transient send failure; the job is retried.
struct TelegramSendError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
