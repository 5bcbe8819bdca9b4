import FakeTelegram
import Foundation
@testable import Game
import Jobs
import TestSupport
import Testing
import ThePredKinds

/// The delivery log's claim: one run sends a message, once per effect, and every way a send
/// ends counts toward its broadcast.
@Suite("Telegram delivery claims", .enabled(if: TestPostgres.available), .timeLimit(.minutes(2)))
struct DeliveryClaimTests {
    typealias T = TelegramDeliveryTests

    static func row(_ f: DomainFixture, key: String) async throws -> (job: String, status: String, attempts: Int64)? {
        let rows = try await f.db.query("SELECT job_id, status, attempts FROM telegram_deliveries WHERE effect_key = $1", [.text(key)])
        return rows.isEmpty ? nil : (try rows.string(0, "job_id"), try rows.string(0, "status"), try rows.int(0, "attempts"))
    }

    @Test("a live claim of another run is not sent over: the job snoozes until the lease ends, then sends")
    func liveClaim() async throws {
        try await T.withDelivery { f, server in
            let id = JobID.generate(millis: 1)
            let p = T.message(31)
            let other = try await DeliveryLog.claim(id, p, effectKey: nil, owner: "another-run", lease: .seconds(30), db: f.db)
            #expect(other.outcome == .claimed)
            let error = await T.outcome(f, p, id: id, attempt: 2)
            let delay = try #require((error as? JobFailure)?.snoozeDelay, "\(String(describing: error))")
            #expect(delay > .seconds(25) && delay <= .seconds(31))
            #expect(server.messages().isEmpty)
            // Its owner died: the lease runs out and the next run takes the claim over.
            try await f.db.query("UPDATE telegram_deliveries SET claim_expires_at = now() - interval '1 second'")
            try await f.run(TelegramSend.kind, p, id: id, attempt: 3)
            #expect(server.messages(chatID: 31).count == 1)
            #expect(try await T.delivery(f, id).status == "SENT")
        }
    }

    @Test("two runs of one job at once: one sends, the other snoozes")
    func concurrentRuns() async throws {
        var config = FakeTelegramServer.Configuration()
        config.slowRate = 1
        config.slowDelay = .milliseconds(500)
        try await T.withDelivery(fake: config) { f, server in
            let id = JobID.generate(millis: 1)
            let outcomes = await withTaskGroup(of: (any Error)?.self) { group in
                for _ in 0..<2 { group.addTask { await T.outcome(f, T.message(32), id: id) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.compactMap { ($0 as? JobFailure)?.snoozeDelay }.count == 1)
            #expect(server.messages(chatID: 32).count == 1)
        }
    }

    @Test("a job made again for the same effect, under a new job id, does not send again")
    func effectKey() async throws {
        var config = FakeTelegramServer.Configuration()
        config.blocked = [34]
        try await T.withDelivery(fake: config) { f, server in
            let first = JobID.generate(millis: 1)
            try await f.run(TelegramSend.kind, T.message(33), id: first, idempotencyKey: "notify:bet:42")
            // A resume or redrive after the 24 h idempotency window: same effect, new job.
            try await f.run(TelegramSend.kind, T.message(33), id: .generate(millis: 2), idempotencyKey: "notify:bet:42")
            #expect(server.messages(chatID: 33).count == 1)
            let row = try #require(try await Self.row(f, key: "notify:bet:42"))
            #expect(row.job == first.rawValue && row.status == "SENT" && row.attempts == 1)
            #expect(try await f.int("SELECT count(*) FROM telegram_deliveries") == 1)
            // A refusal is final for the effect as well: the new job does not ask Telegram again.
            _ = await T.outcome(f, T.message(34), id: .generate(millis: 3), key: "notify:bet:43")
            #expect(await T.outcome(f, T.message(34), id: .generate(millis: 4), key: "notify:bet:43") == nil)
            #expect(server.stats().forbidden == 1)
        }
    }

    @Test("no answer after the request went out: AMBIGUOUS, rejected, and never sent again")
    func ambiguous() async throws {
        var config = FakeTelegramServer.Configuration()
        config.slowRate = 1
        config.slowDelay = .milliseconds(1_500)
        try await T.withDelivery(fake: config, clientTimeout: .milliseconds(700)) { f, server in
            let id = JobID.generate(millis: 1)
            let error = await T.outcome(f, T.message(35), id: id)
            #expect((error as? JobFailure)?.isRejected == true, "\(String(describing: error))")
            var d = try await T.delivery(f, id)
            #expect(d.status == "AMBIGUOUS" && d.attempts == 1 && d.error?.contains("timeout") == true)
            // Telegram did deliver it, after the client gave up.
            try await Task.sleep(for: .seconds(1))
            #expect(server.messages(chatID: 35).count == 1)
            #expect(await T.outcome(f, T.message(35), id: id, attempt: 2) == nil)
            try await Task.sleep(for: .seconds(2))
            #expect(server.messages(chatID: 35).count == 1)
            d = try await T.delivery(f, id)
            #expect(d.status == "AMBIGUOUS" && d.attempts == 1)
        }
    }

    @Test("a request that could be answered after the claim's lease ends is not started: snoozed, no attempt used")
    func leaseBoundsTheRequest() async throws {
        try await T.withDelivery(clientTimeout: .seconds(15), claimLease: .seconds(3)) { f, server in
            let id = JobID.generate(millis: 1)
            let error = await T.outcome(f, T.message(36), id: id)
            #expect((error as? JobFailure)?.snoozeDelay != nil, "\(String(describing: error))")
            let d = try await T.delivery(f, id)
            #expect(d.status == "SENDING" && d.attempts == 0 && d.error?.contains("not started") == true)
            #expect(server.messages().isEmpty && server.stats().total == 0)
            #expect(try await f.int("SELECT count(*) FROM telegram_deliveries WHERE claim_owner IS NOT NULL") == 0, "released")
        }
    }

    @Test("onDead ends a send buried outside its handler, so the broadcast completes; twice changes nothing")
    func buriedSendsComplete() async throws {
        try await T.withDelivery(limits: BroadcastTests.paidLimits) { f, server in
            try await BroadcastTests.users(f, 4)
            let b = try await BroadcastTests.create(f)
            let sends = try await BroadcastTests.fanOut(f)
            #expect(sends.count == 4)
            try await BroadcastTests.send(f, Array(sends.prefix(2)))
            // The third was claimed by a run that then hung past the watchdog, or died (poison).
            let stuck = sends[2]
            _ = try await DeliveryLog.claim(
                stuck.id, stuck.payload, effectKey: "broadcast:\(b.id):\(stuck.payload.telegramID)", owner: "dead-run",
                lease: .seconds(30), db: f.db)
            try await f.bury(TelegramSend.kind, stuck.payload, id: stuck.id, reason: .exhausted, message: "timed out after 30 s")
            // The fourth never got as far as its row.
            try await f.bury(TelegramSend.kind, sends[3].payload, id: sends[3].id, reason: .poison, message: "delivered 11 times")
            var now = try #require(try await Broadcasts.status(b.id, db: f.db))
            #expect(now.status == .completed && now.sent == 2 && now.failed == 2 && now.pending == 0)
            #expect(try await T.delivery(f, stuck.id).status == "PERMANENT_FAILURE")
            #expect(try await T.delivery(f, stuck.id).error?.contains("timed out after 30 s") == true)
            for job in sends { try await f.bury(TelegramSend.kind, job.payload, id: job.id) }
            now = try #require(try await Broadcasts.status(b.id, db: f.db))
            #expect(now.sent == 2 && now.failed == 2, "SENT stays SENT, and nothing counts twice")
            #expect(server.messages().count == 2)
        }
    }

    @Test("a message Telegram accepted whose SENT write failed is logged SENT when its job is buried")
    func acceptedButUnlogged() async throws {
        try await T.withDelivery { f, _ in
            let id = JobID.generate(millis: 1)
            let p = T.message(37)
            _ = try await DeliveryLog.claim(id, p, effectKey: nil, owner: "run", lease: .seconds(30), db: f.db)
            AcceptedUnlogged.remember(id.rawValue, status: .sent, messageID: 99)
            try await f.bury(TelegramSend.kind, p, id: id, reason: .permanent, message: "log write failed")
            #expect(try await T.delivery(f, id).status == "SENT")
            #expect(try await f.int("SELECT message_id FROM telegram_deliveries") == 99)
        }
    }
}
