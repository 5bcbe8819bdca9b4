import ArgumentParser
import FakeTelegram
import Foundation
import Game
import Jobs
import JobsRedis
import JobsWorker
import Logging
import OperatorTools
import Postgres
import Producers
import ServiceLifecycle
import Telegram
import ThePredKinds

/// A broadcast to many users, through the queue, the limiter and the real libcurl client, against
/// the fake Bot API in this process: fan-out time, send rate, 429s, duplicates and losses.
struct BroadcastBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Broadcast to N seeded users against the fake Bot API and print fan-out time and send rate.",
        discussion: """
            Works in a scratch database it drops afterwards, and under a fresh Redis key prefix. The free lane
            (30/s) cannot finish 100,000 in a short run, so the run stops after --duration seconds of
            sending; --paid (1000/s) usually finishes. Workers and the fake server share this process.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Users to broadcast to.") var recipients = 100_000
    @Option(help: "Seconds of sending at most, after the fan-out.") var duration = 60
    @Flag(help: "Use the paid-broadcast lane.") var paid = false
    @Option(help: "Jobs in flight in the worker; the paid lane needs about 64 to keep 1000/s busy.") var concurrency = 64
    @Option(help: "Keep-alive connections to the fake Bot API.") var connections = 16
    @Option(help: "Users per fan-out chunk.") var chunk = 1_000

    func validate() throws {
        guard recipients >= 1 else { throw ValidationError("--recipients must be at least 1") }
        guard (1...3600).contains(duration) else { throw ValidationError("--duration must be within 1...3600") }
    }

    func run() async throws {
        try await withScratchDatabase(database) { name, url in
            print(
                "thepred bench broadcast: \(recipients) recipients, \(paid ? "paid lane" : "free lane"), at most \(duration) s of sending; scratch database \(name)"
            )
            try await bench(url: url)
        }
    }

    func bench(url: String) async throws {
        let conn = PostgresConnection(url: url, name: "bench-seed")
        defer { conn.close() }
        try await Migrator(directory: Migrator.defaultDirectory).migrate(conn)
        let seeded = try await Seeder(.init(users: recipients, markets: 1, bets: 0, resolvedFraction: 0)).run(on: conn)
        // Everyone is a recipient, so the expected count is exact.
        try await conn.query("UPDATE users SET banned = false, unreachable = false")
        print(String(format: "seed:        %d users in %.2f s", seeded.users, seeded.seconds))

        let prefix = "thepred-bench-\(UInt32.random(in: 0 ... .max))"
        let redis = try RedisConfiguration(url: global.redisURL)
        let keys = RedisKeys(prefix: prefix)
        let driver = RedisQueueDriver(
            configuration: .init(redis: redis, keys: keys, statusRetention: .seconds(600)), logger: global.logger("thepred.redis"))
        do { try await driver.ping() } catch { throw CLIError("cannot reach Redis at \(redis.redactedURL): \(describe(error))") }
        try await driver.prepareAppQueues()

        var quiet = Logger(label: "fake-telegram")
        quiet.logLevel = .critical
        let fake = FakeTelegramServer(configuration: .init(token: "bench-token", keepMessages: recipients + 1_000), logger: quiet)
        let pool = PostgresPool(url: url, size: 8, name: "bench-worker", statementTimeout: PostgresPool.defaultStatementTimeout)
        defer { pool.close() }
        var logger = global.logger("thepred.worker")
        logger.logLevel = .warning
        let fakeTask = Task { try await fake.run() }
        defer { fakeTask.cancel() }
        let port = try await fake.waitUntilListening()
        let bot = CurlTelegramClient(
            configuration: .init(apiBase: "http://127.0.0.1:\(port)", token: "bench-token", connections: connections))
        defer { bot.shutdown() }
        var deps = AppHandlers.Dependencies(database: pool)
        deps.fanoutChunk = chunk
        deps.telegram = TelegramDelivery(
            bot: bot, limiter: RedisRateLimiter(connection: RedisConnection(redis, name: "redis-limiter"), keys: keys))
        var config = WorkerService.Configuration(queues: [BroadcastFanout.kind.queue, TelegramSend.bulkKind.queue], consumerName: "bench")
        config.concurrency = concurrency
        let worker = WorkerService(driver: driver, handlers: try AppHandlers.all(deps), configuration: config, logger: logger)
        let scheduler = SchedulerService(
            driver: driver, coordinator: RedisSchedulerCoordinator(connection: driver.connection, keys: keys), schedules: [],
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [worker, scheduler], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await measure(pool: pool, driver: driver, fake: fake)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // Its 100,000 status records and keys would otherwise stay for their retention, and count
        // in the next bench's idle memory.
        try await BenchRedis.deleteKeys(prefix: prefix, driver: driver)
    }

    func measure(pool: PostgresPool, driver: RedisQueueDriver, fake: FakeTelegramServer) async throws {
        let t0 = ContinuousClock.now
        let made = try await Broadcasts.create(
            BroadcastRequest(text: "Season <b>two</b> starts now", paid: paid ? true : nil), db: pool, client: JobClient(driver: driver))
        var fanout: Duration?
        var sendingSince: ContinuousClock.Instant?
        var lastPrint = t0
        var status = made
        while true {
            try await Task.sleep(for: .milliseconds(20))
            let now = ContinuousClock.now
            if fanout == nil {
                let done = try await pool.query(
                    "SELECT fanout_completed_at IS NOT NULL AS done FROM broadcasts WHERE id = $1", [.int(made.id)])
                if done[0, "done"] == "t" {
                    fanout = now - t0
                    print("fan-out:     \(recipients) sends queued in \(format(fanout!))")
                }
            }
            if sendingSince == nil, let first = fake.messages().first {
                sendingSince = first.at
                print("first send:  \(format(first.at - t0)) after the broadcast was created")
            }
            if now - lastPrint >= .seconds(5) {
                lastPrint = now
                status = try await Broadcasts.status(made.id, db: pool) ?? status
                FileHandle.standardError.write(
                    Data("  … \(status.sent) sent, \(status.pending) pending, \(fake.stats().tooManyRequests) 429s\n".utf8))
            }
            if let since = sendingSince, now - since >= .seconds(duration) { break }
            if fake.stats().accepted >= recipients { break }
            if now - t0 > .seconds(duration + 600) { throw CLIError("the broadcast did not start sending within 10 minutes") }
        }
        // Cancel what is left, so the worker drains quickly and the counts settle.
        let beforeCancel = fake.messages()
        _ = try await Broadcasts.cancel(made.id, db: pool)
        try await Task.sleep(for: .seconds(1))
        let messages = fake.messages()
        let stats = fake.stats()
        let chats = Set(messages.map(\.chatID))
        let sentRows = try await pool.query(
            "SELECT count(*) AS n FROM telegram_deliveries WHERE broadcast_id = $1 AND status = 'SENT'", [.int(made.id)])
        let loggedSent = Int64(sentRows[0, "n"] ?? "") ?? -1
        guard let first = beforeCancel.first, let last = beforeCancel.last else { throw CLIError("nothing was sent") }
        let span = last.at - first.at
        let seconds = span.inSeconds
        let rate = seconds > 0 ? Double(beforeCancel.count - 1) / seconds : 0
        let busiest = FakeTelegramServer.busiestSecond(of: messages)
        print(
            String(
                format: "sending:     %d messages in %.2f s: %.1f msg/s sustained (busiest second: %d)", beforeCancel.count, seconds, rate,
                busiest))
        print("429s:        \(stats.tooManyRequests)")
        print("duplicates:  \(messages.count - chats.count)")
        // Lost: logged SENT but never arrived, or arrived but not logged SENT.
        print("lost:        \(abs(Int64(chats.count) - loggedSent)) (accepted by the fake \(chats.count), logged SENT \(loggedSent))")
        if messages.count >= recipients {
            print("completed:   all \(recipients) in \(format(last.at - (sendingSince ?? first.at)))")
        } else {
            print(
                String(
                    format: "remaining:   %d (cancelled at the end of the run); at %.1f/s all %d would take %@",
                    recipients - messages.count, rate, recipients, formatAge(Int64(Double(recipients) / max(rate, 1) * 1000))))
        }
    }

    func format(_ d: Duration) -> String {
        String(format: "%.2f s", d.inSeconds)
    }
}
