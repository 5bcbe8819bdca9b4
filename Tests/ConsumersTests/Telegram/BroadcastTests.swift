import FakeTelegram
import Foundation
@testable import Game
import Jobs
import Producers
import Telegram
import TestSupport
import Testing
import ThePredKinds

@Suite("Broadcasts", .enabled(if: TestPostgres.available), .timeLimit(.minutes(2)))
struct BroadcastTests {
    static let paidLimits: TelegramLimits = {
        var l = TelegramLimits()
        l.globalPerSecond = 1000  // the fake allows 30/s; these tests stay under it by sending few
        return l
    }()

    /// Users 1...n (telegram ids 1001...), some banned or unreachable.
    static func users(_ f: DomainFixture, _ n: Int, banned: Set<Int> = [], unreachable: Set<Int> = []) async throws {
        for i in 1...n { _ = try await f.user(telegramID: Int64(1000 + i), banned: banned.contains(i)) }
        for i in unreachable { try await f.db.query("UPDATE users SET unreachable = true WHERE telegram_id = $1", [.int(Int64(1000 + i))]) }
    }

    static func create(_ f: DomainFixture, _ request: BroadcastRequest = BroadcastRequest(text: "news", paid: true)) async throws
        -> BroadcastStatus
    {
        try await Broadcasts.create(request, db: f.db, client: f.client)
    }

    /// Runs the queued fan-out job(s), returning the sends they queued.
    static func fanOut(_ f: DomainFixture) async throws -> [(id: JobID, payload: TelegramSend)] {
        for job in try await f.takeJobs(BroadcastFanout.kind) { try await f.run(BroadcastFanout.kind, job.payload, id: job.id) }
        return try await f.takeJobs(TelegramSend.bulkKind)
    }

    static func send(_ f: DomainFixture, _ jobs: [(id: JobID, payload: TelegramSend)]) async throws {
        for job in jobs {
            do { try await f.run(TelegramSend.bulkKind, job.payload, id: job.id) } catch let e as JobFailure
                where e.isPermanent || e.isRejected
            {}
        }
    }

    @Test("fan-out reaches every user who is not banned or unreachable, once, then completes")
    func fanOutAndComplete() async throws {
        var config = FakeTelegramServer.Configuration()
        config.blocked = [1004]
        try await TelegramDeliveryTests.withDelivery(fake: config, limits: Self.paidLimits, fanoutChunk: 3) { f, server in
            try await Self.users(f, 10, banned: [2], unreachable: [7])
            let b = try await Self.create(f)
            #expect(b.status == .pending && b.jobID != nil)
            let sends = try await Self.fanOut(f)
            #expect(Set(sends.map(\.payload.telegramID)) == Set([1001, 1003, 1004, 1005, 1006, 1008, 1009, 1010]))
            #expect(sends.allSatisfy { $0.payload.broadcastID == b.id && $0.payload.kind == .broadcast && $0.payload.paid == true })
            var now = try #require(try await Broadcasts.status(b.id, db: f.db))
            #expect(now.status == .processing && now.total == 8 && now.pending == 8 && now.fanoutDone)
            try await Self.send(f, sends)
            now = try #require(try await Broadcasts.status(b.id, db: f.db))
            #expect(now.status == .completed && now.sent == 7 && now.failed == 1 && now.pending == 0 && now.completedAt != nil)
            #expect(server.messages().count == 7)
            #expect(try await f.int("SELECT sent_count FROM broadcasts WHERE id = $1", [.int(b.id)]) == 7)
            // Running the sends again changes nothing: no resend, no double count.
            try await Self.send(f, sends)
            #expect(server.messages().count == 7)
            #expect(try await Broadcasts.status(b.id, db: f.db)?.sent == 7)
        }
    }

    @Test("the fan-out keeps a few seconds of sends queued and goes on from its checkpoint as they drain")
    func pacedFanOut() async throws {
        try await TelegramDeliveryTests.withDelivery(limits: Self.paidLimits) { f, _ in
            try await Self.users(f, 10)
            let b = try await Self.create(f, BroadcastRequest(text: "news"))
            let fanout = try #require(try await f.takeJobs(BroadcastFanout.kind).first)
            let handler = BroadcastFanoutHandler(db: f.db, chunkSize: 3, topUp: (free: 4, paid: 4))
            var queued: [TelegramSend] = []
            var snoozes = 0
            for _ in 0..<10 {
                do {
                    try await handler.handle(fanout.payload, f.context(BroadcastFanout.kind, id: fanout.id))
                    break
                } catch let e as JobFailure where e.snoozeDelay != nil {
                    snoozes += 1
                }
                // The lane drains what waits; the next run goes on from the checkpoint.
                let waiting = try await f.takeJobs(TelegramSend.bulkKind)
                #expect(waiting.count <= 4, "at most the top-up waits at once, not \(waiting.count)")
                queued += waiting.map(\.payload)
            }
            queued += try await f.takeJobs(TelegramSend.bulkKind).map(\.payload)
            #expect(snoozes >= 2)
            #expect(queued.count == 10 && Set(queued.map(\.telegramID)).count == 10, "everyone once: \(queued.map(\.telegramID))")
            #expect(try await Broadcasts.status(b.id, db: f.db)?.fanoutDone == true)
        }
    }

    @Test("a fan-out that stopped between queuing a chunk and its checkpoint queues nobody twice")
    func resume() async throws {
        try await TelegramDeliveryTests.withDelivery(limits: Self.paidLimits, fanoutChunk: 4) { f, _ in
            try await Self.users(f, 10)
            let b = try await Self.create(f)
            let fanout = try #require(try await f.takeJobs(BroadcastFanout.kind).first)
            try await f.run(BroadcastFanout.kind, fanout.payload, id: fanout.id)
            let first = try await f.takeJobs(TelegramSend.bulkKind)
            #expect(first.count == 10)
            // As if it died after queuing users 5...8 but before their checkpoint: back to user 4.
            let fourth = try await f.int("SELECT id FROM users WHERE telegram_id = 1004")
            try await f.db.query(
                "UPDATE broadcasts SET fanout_after_user_id = $2, total_recipients = 4, fanout_completed_at = NULL WHERE id = $1",
                [.int(b.id), .int(fourth)])
            try await f.run(BroadcastFanout.kind, fanout.payload, id: fanout.id, deliveries: 2)
            #expect(try await f.takeJobs(TelegramSend.bulkKind).isEmpty, "the same idempotency keys: nothing new")
            let now = try #require(try await Broadcasts.status(b.id, db: f.db))
            #expect(now.total == 10 && now.fanoutDone)
        }
    }

    @Test("cancelled before it starts: nothing is queued or sent")
    func cancelBeforeStart() async throws {
        try await TelegramDeliveryTests.withDelivery(limits: Self.paidLimits) { f, server in
            try await Self.users(f, 5)
            let b = try await Self.create(f, BroadcastRequest(text: "later", scheduledAtMillis: SystemJobClock().nowMillis() + 60_000))
            #expect(try await Broadcasts.cancel(b.id, db: f.db)?.status == .cancelled)
            let fanout = try await f.driver.promoteDue(queue: BroadcastFanout.kind.queue, limit: 10)
            #expect(fanout.promoted == 0, "still in the future")
            try await f.run(BroadcastFanout.kind, BroadcastFanout(broadcastID: b.id))
            #expect(try await f.takeJobs(TelegramSend.bulkKind).isEmpty)
            #expect(server.messages().isEmpty)
            #expect(try await Broadcasts.cancel(b.id, db: f.db)?.status == .cancelled, "cancelling twice is harmless")
        }
    }

    @Test("cancelled while sending: the sends not yet made are dropped and counted")
    func cancelWhileSending() async throws {
        try await TelegramDeliveryTests.withDelivery(limits: Self.paidLimits) { f, server in
            try await Self.users(f, 6)
            let b = try await Self.create(f)
            let sends = try await Self.fanOut(f)
            try await Self.send(f, Array(sends.prefix(2)))
            _ = try await Broadcasts.cancel(b.id, db: f.db)
            try await Self.send(f, Array(sends.dropFirst(2)))
            #expect(server.messages().count == 2)
            let now = try #require(try await Broadcasts.status(b.id, db: f.db))
            #expect(now.status == .cancelled && now.sent == 2 && now.cancelled == 4 && now.pending == 0)
            #expect(try await f.int("SELECT count(*) FROM telegram_deliveries WHERE status = 'CANCELLED'") == 4)
        }
    }

    @Test("to one user; a banned one gets nothing and the broadcast still completes")
    func oneUser() async throws {
        try await TelegramDeliveryTests.withDelivery(limits: Self.paidLimits) { f, server in
            try await Self.users(f, 2, banned: [2])
            let one = try await Self.create(f, BroadcastRequest(text: "hi", target: .user, telegramID: 1001))
            try await Self.send(f, try await Self.fanOut(f))
            #expect(try await Broadcasts.status(one.id, db: f.db)?.status == .completed)
            let none = try await Self.create(f, BroadcastRequest(text: "hi", target: .user, telegramID: 1002))
            #expect(try await Self.fanOut(f).isEmpty)
            let ended = try #require(try await Broadcasts.status(none.id, db: f.db))
            #expect(ended.status == .completed && ended.total == 0)
            #expect(server.messages().map(\.chatID) == [1001])
        }
    }

    @Test("broadcast.create makes one broadcast per job, and refuses bad requests with the field")
    func createJob() async throws {
        try await TelegramDeliveryTests.withDelivery(limits: Self.paidLimits) { f, _ in
            let id = JobID.generate(millis: 1)
            let request = BroadcastCreate(request: BroadcastRequest(text: "once"))
            try await f.run(BroadcastCreate.kind, request, id: id)
            try await f.run(BroadcastCreate.kind, request, id: id, deliveries: 2)
            #expect(try await f.int("SELECT count(*) FROM broadcasts") == 1)
            #expect(try await f.takeJobs(BroadcastFanout.kind).count == 1)
            let reason = try await f.rejection(BroadcastCreate.kind, BroadcastCreate(request: BroadcastRequest(text: "")))
            #expect(reason.contains("text"))
        }
    }
}

@Suite("Broadcast statuses for the HTTP front", .enabled(if: TestPostgres.available), .timeLimit(.minutes(1)))
struct BroadcastPublisherTests {
    static func published(_ board: MemoryBroadcastBoard, _ id: Int64) async throws -> BroadcastStatus? {
        try await board.status(id: id)
    }

    @Test("create and cancel publish at once; marked broadcasts are published on flush, by the creating job's id too")
    func publishes() async throws {
        let f = try await DomainFixture.make()
        let board = MemoryBroadcastBoard()
        let publisher = BroadcastPublisher(board: board, db: f.db, logger: .init(label: "test"))
        let b = try await Broadcasts.create(BroadcastRequest(text: "hi"), requestID: "job-1", db: f.db, client: f.client)
        try await publisher.publish(b, requestID: "job-1")
        #expect(try await Self.published(board, b.id)?.status == .pending)
        #expect(try await board.status(requestID: "job-1") != nil)
        // A change the board has not seen yet appears on the next flush.
        try await f.db.query("UPDATE broadcasts SET status = 'PROCESSING' WHERE id = $1", [.int(b.id)])
        publisher.changed(b.id)
        await publisher.flush()
        #expect(try await Self.published(board, b.id)?.status == .processing)
        // broadcast.cancel, as the front's DELETE queues it.
        try await f.run(BroadcastCancel.kind, BroadcastCancel(broadcastID: b.id))
        try await publisher.publish(b.id)
        #expect(try await Self.published(board, b.id)?.status == .cancelled)
        // An older snapshot does not overwrite the newer one.
        try await publisher.publish(b)
        #expect(try await Self.published(board, b.id)?.status == .cancelled)
    }
}
