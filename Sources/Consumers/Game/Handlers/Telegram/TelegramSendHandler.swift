import Jobs
import JobsWorker
import Logging
import Postgres
import Telegram
import ThePredKinds

/// Sends one message through the Bot API, paced by the fleet-wide limiter, and logs its end.
///
/// A run sends only while it holds the message's claim in the delivery log (see `DeliveryLog`),
/// so a concurrent run, a redelivery, or a job made again for the same effect does not send too.
/// The request must be answered before the claim's lease ends, or it is not started.
///
/// Windows left for a duplicate (README, "Telegram delivery and broadcasts"): Telegram accepted
/// the message and the process died before the SENT write (one statement, about a millisecond);
/// or the SENT write kept failing for `sentWriteRetry` and the job was then retried elsewhere.
/// A request that may have arrived but got no answer is AMBIGUOUS and is never sent again.
struct TelegramSendHandler: Sendable {
    let db: any PostgresClient
    let delivery: TelegramDelivery
    var publisher: BroadcastPublisher?
    /// The class its kind sends in, which sets its pace on the free lane.
    var priority: TelegramSend.Priority = .interactive
    /// Where the outcomes after which a message is never sent again (SENT, AMBIGUOUS) are written:
    /// a pool of their own in the worker, so that write starts at once (finding 11).
    var outcomes: (any PostgresClient)?

    private func metrics(_ p: TelegramSend) -> TelegramMetrics { TelegramMetrics(paid: p.paid ?? false, priority: priority) }

    func handle(_ p: TelegramSend, _ context: JobContext) async throws {
        defer { if let broadcast = p.broadcastID { publisher?.changed(broadcast) } }
        try await send(p, context)
    }

    /// A slot on the fleet's lanes, and when it was asked for. A refusal that clears soon (another
    /// class's turn on the shared lane) is waited out here rather than snoozed: a snooze costs the
    /// queue a round of writes, and a backlog would make thousands of them a second. A longer one
    /// (its chat had a message less than a second ago) is snoozed, so it does not keep a worker
    /// slot its class could send with meanwhile.
    private func reserveSlot(_ p: TelegramSend) async throws -> (RateReservation, asked: ContinuousClock.Instant) {
        let paid = p.paid ?? false
        let lanes = delivery.limits.lanes(chatID: p.telegramID, paid: paid)
        let share = delivery.limits.share(className: priority.rawValue, paid: paid)
        var asked = ContinuousClock.now
        var reservation = try await delivery.limiter.reserve(lanes, horizon: delivery.limits.horizon, share: share)
        var waited = Duration.zero
        while !reservation.granted, reservation.wait <= delivery.limits.waitInProcess, waited < delivery.limits.horizon {
            let pause = max(reservation.wait, .milliseconds(5))
            try await Task.sleep(for: pause)
            waited += pause
            asked = ContinuousClock.now
            reservation = try await delivery.limiter.reserve(lanes, horizon: delivery.limits.horizon, share: share)
        }
        return (reservation, asked)
    }

    /// The `onDead` hook: a send buried for any reason (exhausted, timed out, poison, a failed
    /// final write) still ends its message, so its broadcast completes.
    static func onDead(db: any PostgresClient) -> @Sendable (TelegramSend, JobDeath) async throws -> Void {
        { p, death in
            try await DeliveryLog.bury(
                death.id, p, effectKey: DeliveryLog.effectKey(p, queuedUnder: death.idempotencyKey),
                reason: "\(death.reason): \(death.message)", db: db)
        }
    }

    private func send(_ p: TelegramSend, _ context: JobContext) async throws {
        let id = context.id
        if let unlogged = AcceptedUnlogged.peek(id.rawValue) {
            // An earlier run in this process got its outcome but could not log it: that outcome,
            // AMBIGUOUS included, is written now (never SENT for a message that may not have arrived).
            try await recordOutcome(
                id.rawValue, p, status: unlogged.status, error: unlogged.status == .ambiguous ? "no answer from Telegram" : nil,
                messageID: unlogged.messageID)
            if unlogged.status == .ambiguous { throw JobFailure.rejected("no answer from Telegram, and the message may have arrived") }
            return
        }
        let owner = DeliveryLog.owner(for: id)
        let claimedAt = ContinuousClock.now
        let claim: DeliveryLog.Claim
        do {
            claim = try await DeliveryLog.claim(
                id, p, effectKey: DeliveryLog.effectKey(p, queuedUnder: context.idempotencyKey), owner: owner,
                lease: delivery.claimLease, db: db)
        } catch let error as PostgresError where error.sqlState == "23503" {
            throw JobFailure.permanent("broadcast \(p.broadcastID ?? 0) does not exist")
        }
        switch claim.outcome {
        case .ended(let status):
            context.logger.info("message already \(status.rawValue); not sending", metadata: ["job": "\(id)", "row": "\(claim.row)"])
            return
        case .busy(let left):
            throw JobFailure.snooze(for: left + .milliseconds(250), reason: "another run holds the delivery claim")
        case .claimed:
            break
        }
        let row = claim.row
        let slot: ContinuousClock.Instant
        do {
            guard let granted = try await prepare(p, claim, context) else { return }
            slot = granted
        } catch {
            // Nothing was sent: the next run need not wait for the lease.
            try? await shielded { try await DeliveryLog.release(row, owner: owner, db: db) }
            throw error
        }

        let paid = p.paid ?? false
        // The free lane's sends are timed to the slot on the client's thread (see `slot`). The paid
        // lane's are not: at 1000/s a connection waiting for one slot holds up the requests behind
        // it (measured: 934 msg/s fell to 444 with a 30 ms hand-off, to 592 with 3 ms).
        var message = TelegramOutgoing(
            chatID: p.telegramID, text: p.text, parseMode: p.parseMode.rawValue, photoURL: p.photoURL, paid: paid,
            answerBy: claimedAt + delivery.claimLease - delivery.claimMargin, sendAt: paid ? nil : slot,
            latestStart: paid ? nil : slot + delivery.limits.lateness)
        let answer: TelegramAnswer
        do {
            guard let sent = try await sendInSlot(&message, p, claim) else { return }
            answer = sent
        } catch let error as TelegramTransportError where error.code == .missedSlot {
            try await shielded { try await DeliveryLog.release(row, owner: owner, error: "\(error)", db: db) }
            metrics(p).ended(.notStarted)
            throw JobFailure.snooze(for: .milliseconds(10), reason: "rate limit: missed its send slots (the process is too busy)")
        } catch let error as TelegramTransportError where error.mayHaveArrived {
            // Telegram may have delivered it; a second request could be a duplicate. Never re-sent.
            // Written with the SENT write's retries: found by ops/chaos, a PostgreSQL restart that
            // failed this one write made the job transient, and its retry sent the message again.
            metrics(p).ended(.ambiguous)
            try await recordOutcome(row, p, status: .ambiguous, error: "\(error)", messageID: nil)
            throw JobFailure.rejected("no answer from Telegram, and the message may have arrived (\(error)); not sent again")
        } catch let error as TelegramTransportError where error.code == .notSent {
            // Not started: the client's connections were too busy to answer within the claim (or
            // it is shutting down). Local congestion, not Telegram's failure: no attempt is used.
            try await shielded { try await DeliveryLog.release(row, owner: owner, error: "\(error)", db: db) }
            context.logger.warning("send not started in time", metadata: ["job": "\(id)", "error": "\(error)"])
            metrics(p).ended(.notStarted)
            throw JobFailure.snooze(for: .seconds(1), reason: "\(error)")
        } catch let error as TelegramTransportError {
            metrics(p).ended(.failed)
            try await transient("\(error)", row, owner, p, context)
        } catch {
            // Cancelled before the request started: nothing went out.
            try? await shielded { try await DeliveryLog.release(row, owner: owner, db: db) }
            throw error
        }
        if answer.ok {
            // Counted before the write, which can fail: Telegram has the message either way.
            metrics(p).ended(.sent)
            // First thing after the answer: this write closes the duplicate window.
            try await recordSent(row, p, messageID: answer.messageID)
            return
        }
        try await shielded { try await refused(answer, row, owner, p, context) }
    }

    /// Everything before the request: the broadcast's state, the text, a send slot. Nil when
    /// the broadcast was cancelled (the message is then logged CANCELLED).
    private func prepare(_ p: TelegramSend, _ claim: DeliveryLog.Claim, _ context: JobContext) async throws -> ContinuousClock.Instant? {
        if claim.broadcastStatus == "CANCELLED" {
            try await DeliveryLog.record(
                claim.row, p, status: .cancelled, owner: claim.owner, attempted: false, error: "broadcast cancelled", db: db)
            metrics(p).ended(.cancelled)
            return nil
        }
        if let problem = Self.problem(in: p) {
            try await DeliveryLog.record(
                claim.row, p, status: .permanentFailure, owner: claim.owner, attempted: false, error: problem, db: db)
            metrics(p).ended(.refused)
            throw JobFailure.permanent(problem)
        }
        return try await slot(p, claim)
    }

    /// Sends in the slot the message carries; a slot the client could not start in is given up
    /// for a new one, twice, before the job snoozes.
    private func sendInSlot(_ message: inout TelegramOutgoing, _ p: TelegramSend, _ claim: DeliveryLog.Claim) async throws
        -> TelegramAnswer?
    {
        var missed = 0
        while true {
            do {
                return try await delivery.bot.send(message)
            } catch let error as TelegramTransportError where error.code == .missedSlot && missed < 2 {
                missed += 1
                guard let slot = try await slot(p, claim, timed: false) else { return nil }
                message.sendAt = slot
                message.latestStart = slot + delivery.limits.lateness  // only the free lane's sends miss slots
            }
        }
    }

    /// A send slot, waited for until just before it: the client waits the last moment on its own
    /// thread, which wakes on time (`handOff`). A slot is only good on time: the lanes' headroom
    /// absorbs `lateness` and the trip to Telegram, no more, and a message sent late in its slot
    /// crowds the next one's window (Telegram's 429, and a pause for the whole fleet). A slot
    /// missed here is given up for a new one. Nil when the broadcast was cancelled meanwhile.
    /// `timed`: the first slot of a run records the pacing wait; a slot asked for again after a
    /// missed one does not, so each message is one sample.
    private func slot(_ p: TelegramSend, _ claim: DeliveryLog.Claim, timed: Bool = true) async throws -> ContinuousClock.Instant? {
        let started = ContinuousClock.now
        for _ in 0..<3 {
            let (reservation, asked) = try await reserveSlot(p)
            guard reservation.granted else {
                throw JobFailure.snooze(
                    for: max(reservation.wait, .milliseconds(10)), reason: "rate limit: no send slot within the horizon")
            }
            // The earliest the slot can be: Redis's answer took some of the wait.
            let slot = asked + reservation.wait
            // A broadcast cancelled while its message waited is checked during the wait, not after it.
            async let cancelled = reservation.wait > .milliseconds(250) ? broadcastCancelled(p) : false
            let paid = p.paid ?? false
            try await Task.sleep(until: paid ? slot : slot - delivery.limits.handOff, clock: .continuous)
            if try await cancelled {
                try await DeliveryLog.record(
                    claim.row, p, status: .cancelled, owner: claim.owner, attempted: false, error: "broadcast cancelled", db: db)
                metrics(p).ended(.cancelled)
                return nil
            }
            if paid || ContinuousClock.now - slot <= delivery.limits.lateness {
                if timed { metrics(p).waited(slot - started) }
                return slot
            }
        }
        metrics(p).ended(.notStarted)
        throw JobFailure.snooze(for: .milliseconds(10), reason: "rate limit: missed three send slots in a row (the process is too busy)")
    }

    private func broadcastCancelled(_ p: TelegramSend) async throws -> Bool {
        guard let broadcastID = p.broadcastID else { return false }
        return try await db.query("SELECT status FROM broadcasts WHERE id = $1", [.int(broadcastID)])[0, "status"] == "CANCELLED"
    }

    /// Writes SENT, retrying while PostgreSQL is away: until it is written, a later run would
    /// send the message again. Not cancelled with the job.
    private func recordSent(_ row: String, _ p: TelegramSend, messageID: Int64?) async throws {
        try await recordOutcome(row, p, status: .sent, error: nil, messageID: messageID)
    }

    /// Writes an outcome after which the message must not be sent again (SENT, AMBIGUOUS), retrying
    /// for `sentWriteRetry` while PostgreSQL is away. If it never lands, this process remembers the
    /// message, so a later run here records it instead of sending, and the job is a dead letter.
    private func recordOutcome(_ row: String, _ p: TelegramSend, status: DeliveryLog.Status, error: String?, messageID: Int64?) async throws
    {
        let (db, retry) = (outcomes ?? db, delivery.sentWriteRetry)
        // First on this task: a shielded task is one more wait for a pool thread, and this write
        // closes the duplicate window. Only a failure (or a cancellation meanwhile) goes on below.
        if !Task.isCancelled,
            (try? await DeliveryLog.record(row, p, status: status, owner: nil, attempted: true, error: error, messageID: messageID, db: db))
                != nil
        {
            AcceptedUnlogged.forget(row)
            return
        }
        try await shielded {
            let giveUp = ContinuousClock.now + retry
            var delay = Duration.milliseconds(50)
            while true {
                do {
                    try await DeliveryLog.record(
                        row, p, status: status, owner: nil, attempted: true, error: error, messageID: messageID, db: db)
                    AcceptedUnlogged.forget(row)
                    // An earlier try may have written the row and failed on the completion check
                    // after it; this write then moved nothing and made no check of its own.
                    if let broadcast = p.broadcastID { try? await BroadcastProgress.completeIfDone(broadcast, db: db) }
                    return
                } catch let failure {
                    if ContinuousClock.now + delay > giveUp {
                        AcceptedUnlogged.remember(row, status: status, messageID: messageID)
                        throw JobFailure.permanent(
                            "Telegram \(status == .sent ? "accepted" : "may have delivered") the message (id \(messageID.map(String.init) ?? "?")) "
                                + "but the delivery log could not be written: \(failure)")
                    }
                    try? await Task.sleep(for: delay)
                    delay = min(delay * 2, .seconds(2))
                }
            }
        }
    }

    /// Telegram's refusals.
    private func refused(_ answer: TelegramAnswer, _ row: String, _ owner: String, _ p: TelegramSend, _ context: JobContext) async throws {
        let code = answer.errorCode ?? answer.httpStatus
        let text = "\(code): \(answer.description ?? "no description")"
        switch code {
        case 429:
            let wait = Duration.seconds(max(1, answer.retryAfter ?? 1))
            metrics(p).ended(.rateLimited)
            metrics(p).paused(for: wait)
            try await delivery.limiter.pause(for: wait)
            try await DeliveryLog.release(row, owner: owner, error: text, db: db)
            context.logger.warning("Telegram asked the fleet to wait", metadata: ["retry_after": "\(wait)"])
            throw JobFailure.snooze(for: wait, reason: "Telegram 429, retry after \(wait)")
        case 403:
            metrics(p).ended(.blocked)
            try await DeliveryLog.record(row, p, status: .permanentFailure, owner: owner, attempted: true, error: text, db: db)
            // Blocked or deactivated: later broadcasts and notifications skip this user.
            try await db.query("UPDATE users SET unreachable = true WHERE telegram_id = $1 AND NOT unreachable", [.int(p.telegramID)])
            throw JobFailure.rejected("Telegram \(text)")
        case 400:
            // Our markup, or a chat id that is wrong: someone must look at it.
            metrics(p).ended(.refused)
            try await DeliveryLog.record(row, p, status: .permanentFailure, owner: owner, attempted: true, error: text, db: db)
            throw JobFailure.permanent("Telegram \(text)")
        default:
            metrics(p).ended(.failed)
            try await transient("Telegram \(text)", row, owner, p, context)
        }
    }

    /// 5xx, refused connections and unexpected answers, where the message did not go out: retried
    /// with the kind's backoff; the last attempt ends it PERMANENT_FAILURE and the job in the
    /// dead-letter queue.
    private func transient(_ error: String, _ row: String, _ owner: String, _ p: TelegramSend, _ context: JobContext) async throws -> Never
    {
        let db = db
        if TelegramSend.kind.retry.allowsRetry(afterAttempt: context.attempt) {
            try await shielded {
                try await DeliveryLog.record(row, p, status: .failed, owner: owner, attempted: true, error: error, db: db)
            }
            throw TelegramSendError(message: error)
        }
        let final = "gave up after \(context.attempt) attempts: \(error)"
        try await shielded {
            try await DeliveryLog.record(row, p, status: .permanentFailure, owner: owner, attempted: true, error: final, db: db)
        }
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

/// Runs `body` to its end even when the calling task is cancelled: once a request went out, its
/// outcome must be written, and a job's timeout cancels its task (and with it PostgreSQL calls).
@discardableResult
func shielded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await Task { try await body() }.value
}
