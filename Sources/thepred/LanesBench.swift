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

/// The three Telegram classes at once on the free lane, against the fake Bot API in this process:
/// a broadcast (bulk), a settlement's notifications (results) and a user's messages every half
/// second (interactive). Prints each class's rate, the results/bulk split against the weights, and
/// how long the interactive messages took from enqueue to Telegram. With `--bulk-alone`, the broadcast
/// runs alone first and the results come later: it then prints how soon the split reaches the weights.
struct LanesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lanes",
        abstract: "Broadcast, results and interactive messages together on the free lane; print each class's share and latency.",
        discussion: """
            Works in a scratch database it drops afterwards, and under a fresh Redis key prefix. Bounded: it
            stops after --duration seconds of sending and cancels what is left. --bulk-alone N queues the result
            notifications N seconds into those, not at the start, and prints the results' share of results+bulk
            for each second after they arrived, and when it settled within 10% of the weight.
            """)
    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Broadcast recipients (bulk).") var recipients = 3_000
    @Option(help: "Result notifications queued at the start, or after --bulk-alone (results).") var results = 3_000
    @Option(help: "Milliseconds between two interactive messages.") var interactiveEvery = 500
    @Option(help: "Seconds of sending, --bulk-alone included.") var duration = 60
    @Option(help: "Seconds the broadcast runs alone before the result notifications are queued (0: at the start).")
    var bulkAlone = 0
    @Option(help: "Jobs in flight in the worker.") var concurrency = 64

    static let resultsBase: Int64 = 8_000_000_000
    static let interactiveBase: Int64 = 9_000_000_000

    func validate() throws {
        guard recipients >= 1, results >= 1 else { throw ValidationError("--recipients and --results must be at least 1") }
        guard (10...3600).contains(duration) else { throw ValidationError("--duration must be within 10...3600") }
        guard (50...60_000).contains(interactiveEvery) else { throw ValidationError("--interactive-every must be within 50...60000") }
        guard bulkAlone == 0 || (bulkAlone > 0 && bulkAlone <= duration - 10) else {
            throw ValidationError("--bulk-alone must leave at least 10 s of --duration")
        }
        // Both classes must still have work when the run ends: bulk takes up to the whole lane (30/s) while
        // alone and a third of it after; results two thirds.
        let bulkNeeded = 30 * bulkAlone + 10 * (duration - bulkAlone)
        guard bulkAlone == 0 || recipients >= bulkNeeded else {
            throw ValidationError("--recipients must be at least \(bulkNeeded) for --bulk-alone \(bulkAlone) and --duration \(duration)")
        }
        guard bulkAlone == 0 || results >= 20 * (duration - bulkAlone) else {
            throw ValidationError("--results must be at least \(20 * (duration - bulkAlone)) for the time after --bulk-alone")
        }
    }

    func run() async throws {
        try await withScratchDatabase(database) { name, url in
            print(
                "thepred bench lanes: \(recipients) broadcast recipients, \(results) result notifications, an interactive message "
                    + "every \(interactiveEvery) ms, \(duration) s"
                    + (bulkAlone > 0 ? ", the results queued after \(bulkAlone) s of bulk alone" : "") + "; scratch database \(name)")
            try await bench(url: url)
        }
    }

    func bench(url: String) async throws {
        let conn = PostgresConnection(url: url, name: "bench-seed")
        defer { conn.close() }
        try await Migrator(directory: Migrator.defaultDirectory).migrate(conn)
        _ = try await Seeder(.init(users: recipients, markets: 1, bets: 0, resolvedFraction: 0)).run(on: conn)
        try await conn.query("UPDATE users SET banned = false, unreachable = false")
        let redis = try RedisConfiguration(url: global.redisURL)
        let prefix = "thepred-bench-\(UInt32.random(in: 0 ... .max))"
        let keys = RedisKeys(prefix: prefix)
        let driver = RedisQueueDriver(configuration: .init(redis: redis, keys: keys, statusRetention: .seconds(600)))
        do { try await driver.ping() } catch { throw CLIError("cannot reach Redis at \(redis.redactedURL): \(describe(error))") }
        try await driver.prepareAppQueues()
        var quiet = Logger(label: "fake-telegram")
        quiet.logLevel = .critical
        let fake = FakeTelegramServer(
            configuration: .init(token: "bench-token", keepMessages: recipients + results + 10_000), logger: quiet)
        let fakeTask = Task { try await fake.run() }
        defer { fakeTask.cancel() }
        let port = try await fake.waitUntilListening()
        let bot = CurlTelegramClient(configuration: .init(apiBase: "http://127.0.0.1:\(port)", token: "bench-token", connections: 16))
        defer { bot.shutdown() }
        let pool = PostgresPool(url: url, size: 8, name: "bench-worker", statementTimeout: PostgresPool.defaultStatementTimeout)
        defer { pool.close() }
        var deps = AppHandlers.Dependencies(database: pool)
        let limits = TelegramLimits()
        deps.telegram = TelegramDelivery(
            bot: bot, limiter: RedisRateLimiter(connection: RedisConnection(redis, name: "redis-limiter"), keys: keys), limits: limits)
        let queues = [BroadcastFanout.kind.queue] + TelegramSend.Priority.allCases.map { TelegramSend.kind(for: $0).queue }
        var config = WorkerService.Configuration(queues: queues, consumerName: "bench")
        config.concurrency = concurrency
        // As `thepred worker` does by default: the two classes that wait their turn hold 3/8 of the slots each at most.
        config.queueConcurrency = [
            TelegramSend.resultsKind.queue: max(1, concurrency * 3 / 8), TelegramSend.bulkKind.queue: max(1, concurrency * 3 / 8),
        ]
        var logger = global.logger("thepred.worker")
        logger.logLevel = .warning
        let worker = WorkerService(driver: driver, handlers: try AppHandlers.all(deps), configuration: config, logger: logger)
        let scheduler = SchedulerService(
            driver: driver, coordinator: RedisSchedulerCoordinator(connection: driver.connection, keys: keys), schedules: [], logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [worker, scheduler], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            try await measure(pool: pool, client: JobClient(driver: driver), fake: fake, weights: limits.classWeights)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        try await BenchRedis.deleteKeys(prefix: prefix, driver: driver)
    }

    func measure(pool: PostgresPool, client: JobClient, fake: FakeTelegramServer, weights: [String: Int]) async throws {
        let made = try await Broadcasts.create(BroadcastRequest(text: "Season <b>two</b> starts now"), db: pool, client: client)
        let notifications = (0..<Int64(results)).map {
            TelegramSend(telegramID: Self.resultsBase + $0, kind: .betWon, text: "🎉 You won <b>150 PRED</b>.")
        }
        var resultsAt: ContinuousClock.Instant?
        if bulkAlone == 0 {
            resultsAt = .now
            try await client.enqueue(TelegramSend.resultsKind, notifications)
        }
        var asked: [Int64: Int64] = [:]  // chat: enqueue time (ms)
        let start = ContinuousClock.now
        var n: Int64 = 0
        while ContinuousClock.now - start < .seconds(duration) {
            if resultsAt == nil, ContinuousClock.now - start >= .seconds(bulkAlone) {
                // The results' arrival counts from before the enqueue: whatever it takes is part of the wait.
                resultsAt = .now
                try await client.enqueue(TelegramSend.resultsKind, notifications)
            }
            let chat = Self.interactiveBase + n
            asked[chat] = client.clock.nowMillis()
            try await client.enqueue(TelegramSend.kind, TelegramSend(telegramID: chat, kind: .missionCompleted, text: "✅ Mission done."))
            n += 1
            try await Task.sleep(for: .milliseconds(interactiveEvery))
        }
        let end = ContinuousClock.now
        _ = try await Broadcasts.cancel(made.id, db: pool)
        try await Task.sleep(for: .seconds(2))
        let messages = fake.messages()
        guard bulkAlone > 0, let arrived = resultsAt else {
            return report(messages, asked: asked, stats: fake.stats(), weights: weights)
        }
        reportShares(messages, start: start, arrived: arrived, end: end, weights: weights)
        // Today's figures, over the time both had work: from 5 s after the results arrived.
        report(messages, asked: asked, stats: fake.stats(), weights: weights, from: arrived + .seconds(5))
    }

    /// `from`: where the window starts, 5 s after the first send if nil.
    func report(
        _ messages: [FakeTelegramServer.Message], asked: [Int64: Int64], stats: FakeTelegramServer.Stats, weights: [String: Int],
        from start: ContinuousClock.Instant? = nil
    ) {
        guard let first = messages.first, let last = messages.last else { return print("nothing was sent") }
        let isInteractive = Self.isInteractive
        let isResult = Self.isResult
        // The shares over a window where all three classes had work: from 5 s in to 5 s before the end.
        let from = start ?? first.at + .seconds(5)
        let to = last.at - .seconds(5)
        let window = messages.filter { $0.at >= from && $0.at <= to }
        let seconds = (to - from).inSeconds
        let i = window.filter(isInteractive).count
        let r = window.filter(isResult).count
        let b = window.count - i - r
        let rWeight = Self.resultsWeight(weights)
        print(
            String(format: "window:      %.1f s with all three classes waiting; %.1f msg/s in all", seconds, Double(window.count) / seconds)
        )
        print(String(format: "interactive: %d sent (%.1f/s)", i, Double(i) / seconds))
        print(
            String(
                format: "results:     %d sent (%.1f/s), %.1f%% of results+bulk (weight %.1f%%)", r, Double(r) / seconds,
                100 * Double(r) / Double(max(1, r + b)), 100 * rWeight))
        print(String(format: "bulk:        %d sent (%.1f/s)", b, Double(b) / seconds))
        let latencies = messages.filter(isInteractive).compactMap { m in asked[m.chatID].map { m.unixMillis - $0 } }.sorted()
        if !latencies.isEmpty {
            let p = { (q: Double) in latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
            print(
                "latency:     interactive enqueue to Telegram p50 \(p(0.5)) ms, p99 \(p(0.99)) ms, max \(latencies.last!) ms (\(latencies.count) of \(asked.count))"
            )
        }
        print("429s:        \(stats.tooManyRequests); busiest second \(FakeTelegramServer.busiestSecond(of: messages))")
    }
}
