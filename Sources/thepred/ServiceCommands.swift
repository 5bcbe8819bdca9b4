import ArgumentParser
import Consumers
import Foundation
import Jobs
import Logging
import Producers
import ServiceLifecycle

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run jobs from the given queues until SIGTERM or SIGINT, then drain.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var telegram: TelegramOptions

    @Option(help: "Comma-separated queues to serve. Default: every queue a registered job kind uses. Env: WORKER_QUEUES.")
    var queues: String = ProcessInfo.processInfo.environment["WORKER_QUEUES"] ?? ""

    @Option(help: "Jobs run at once in this process. Env: WORKER_CONCURRENCY.")
    var concurrency: Int = Int(ProcessInfo.processInfo.environment["WORKER_CONCURRENCY"] ?? "") ?? 16

    @Option(help: "Seconds in-flight jobs may run on after a shutdown signal.")
    var grace: Int = 25

    @Option(help: "Seconds a job may be held without a lease renewal before another worker takes it over.")
    var visibilityTimeout: Int = 60

    @Option(help: "Deliveries after which a job that keeps crashing workers is buried as poison.")
    var maxDeliveries: Int = 10

    @Option(help: "Consumer name in the group. Default: host-pid-random.")
    var consumer: String?

    @Option(help: "Bets per settlement statement and transaction. Larger is faster in bulk but holds users' rows longer. Env: SETTLEMENT_CHUNK.")
    var settlementChunk: Int = Int(ProcessInfo.processInfo.environment["SETTLEMENT_CHUNK"] ?? "") ?? 5_000

    func validate() throws {
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        guard grace >= 0 else { throw ValidationError("--grace must not be negative") }
        guard visibilityTimeout >= 1 else { throw ValidationError("--visibility-timeout must be at least 1") }
        guard maxDeliveries >= 1 else { throw ValidationError("--max-deliveries must be at least 1") }
        guard (100...100_000).contains(settlementChunk) else { throw ValidationError("--settlement-chunk must be within 100...100,000") }
    }

    func run() async throws {
        let logger = global.logger("thepred.worker")
        let signals = ShutdownSignals(logger: logger)
        let pool = try await database.connectedPool(jobs: true)
        defer { pool.close() }
        var deps = AppHandlers.Dependencies(database: pool)
        deps.settlementChunk = settlementChunk
        let driver = try await global.connectedDriver()
        let bot = telegram.client()
        defer { bot?.shutdown() }
        if let bot {
            let limiter = RedisRateLimiter(
                connection: RedisConnection(driver.configuration.redis, name: "redis-limiter"), keys: RedisKeys(prefix: global.keyPrefix))
            var delivery = TelegramDelivery(bot: bot, limiter: limiter, limits: telegram.limits())
            // A claim lasts as long as a send can take (the wait for a slot, the request, the margin),
            // so a message whose worker died waits no longer than that before another sends it.
            delivery.claimLease = delivery.limits.horizon + .seconds(telegram.telegramTimeout) + delivery.claimMargin + .seconds(1)
            deps.telegram = delivery
            logger.info("telegram delivery on", metadata: ["api": "\(bot)", "limits": "\(telegram.limitsDescription)"])
        } else {
            logger.warning("TELEGRAM_BOT_TOKEN is not set: this worker does not serve the telegram queue")
        }
        let publisher = BroadcastPublisher(
            board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys), db: pool,
            logger: global.logger("thepred.broadcasts"))
        deps.broadcastPublisher = publisher
        let handlers = try AppHandlers.all(deps)
        let served = queues.isEmpty ? handlers.queues : try parseQueues(queues)
        guard !served.isEmpty else { throw ValidationError("no queues to serve") }
        try Self.checkCanServe(served, handlers: handlers)
        var config = WorkerService.Configuration(queues: served, consumerName: consumer)
        config.concurrency = concurrency
        config.shutdownGrace = .seconds(grace)
        config.visibilityTimeout = .seconds(visibilityTimeout)
        config.maxDeliveries = maxDeliveries
        // Follow-up jobs go to queues this worker may not serve (telegram.send before its handler
        // exists); preparing them makes their backlog show in `thepred queues`.
        try await driver.prepareAppQueues()
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                // Stopped in reverse: the worker drains first, then the publisher's last flush
                // carries the statuses of the broadcasts it touched.
                services: [.init(service: publisher), .init(service: worker)], logger: logger))
        signals.hand(to: group)
        try await group.run()
    }
}

extension WorkerCommand {
    /// Refuses to serve a queue with a kind this worker has no handler for: its jobs would only
    /// bounce between workers (or die as unknown_kind) instead of waiting for one that can run them.
    static func checkCanServe(_ queues: [QueueName], handlers: JobHandlers) throws {
        let known = try AppKinds.registry().all
        for queue in queues {
            let missing = known.filter { $0.queue == queue && handlers.registry.descriptor(named: $0.name.rawValue) == nil }
            guard missing.isEmpty else {
                let names = missing.map(\.name.rawValue).joined(separator: ", ")
                let hint = missing.contains { $0.name == TelegramSend.kind.name } ? " (telegram.send needs TELEGRAM_BOT_TOKEN)" : ""
                throw CLIError("cannot serve queue '\(queue)': this worker has no handler for \(names)\(hint)")
            }
        }
    }
}

/// The Bot API client and the fleet's send limits.
struct TelegramOptions: ParsableArguments {
    @Option(name: .long, help: "Bot API base URL. Env: TELEGRAM_API_BASE.")
    var telegramAPIBase: String = ProcessInfo.processInfo.environment["TELEGRAM_API_BASE"] ?? "https://api.telegram.org"

    @Option(name: .customLong("telegram-bot-token"), help: "Bot token; without one the worker leaves the telegram queue alone. Never logged. Env: TELEGRAM_BOT_TOKEN.")
    var telegramBotTokenOption: String?

    var telegramBotToken: String { telegramBotTokenOption ?? ProcessInfo.processInfo.environment["TELEGRAM_BOT_TOKEN"] ?? "" }

    @Option(name: .long, help: "Messages per second for the whole fleet (free lane). Env: TELEGRAM_RATE.")
    var telegramRate: Int = Int(ProcessInfo.processInfo.environment["TELEGRAM_RATE"] ?? "") ?? 30

    @Option(name: .long, help: "Messages per second in the paid-broadcast lane. Env: TELEGRAM_PAID_RATE.")
    var telegramPaidRate: Int = Int(ProcessInfo.processInfo.environment["TELEGRAM_PAID_RATE"] ?? "") ?? 1000

    @Option(name: .long, help: "Messages per minute to one group chat.")
    var telegramGroupRate: Int = 20

    @Option(name: .long, help: "Keep-alive HTTP connections to the Bot API, each on its own thread. Env: TELEGRAM_CONNECTIONS.")
    var telegramConnections: Int = Int(ProcessInfo.processInfo.environment["TELEGRAM_CONNECTIONS"] ?? "") ?? 8

    @Option(name: .long, help: "Seconds a Bot API request may take in all (connecting takes at most 5).")
    var telegramTimeout: Int = 15

    func validate() throws {
        guard telegramRate >= 1, telegramPaidRate >= 1, telegramGroupRate >= 1 else {
            throw ValidationError("Telegram rates must be at least 1")
        }
        guard (1...256).contains(telegramConnections) else { throw ValidationError("--telegram-connections must be within 1...256") }
        // A send must be answered within 27 s of its delivery-log claim and may first wait up to 3 s
        // for a slot; a longer request timeout would never start.
        guard (1...20).contains(telegramTimeout) else { throw ValidationError("--telegram-timeout must be within 1...20 s") }
        if telegramBotToken.contains("/") || telegramBotToken.contains(" ") {
            throw ValidationError("--telegram-bot-token looks wrong (it contains / or a space)")
        }
    }

    func client() -> CurlTelegramClient? {
        guard !telegramBotToken.isEmpty else { return nil }
        let token = telegramBotToken
        return CurlTelegramClient(
            configuration: .init(
                apiBase: telegramAPIBase, token: token, connections: telegramConnections, connectTimeout: .seconds(5),
                timeout: .seconds(telegramTimeout)))
    }

    func limits() -> TelegramLimits {
        var limits = TelegramLimits()
        limits.globalPerSecond = telegramRate
        limits.paidPerSecond = telegramPaidRate
        limits.groupPerMinute = telegramGroupRate
        return limits
    }

    var limitsDescription: String { "\(telegramRate)/s, paid \(telegramPaidRate)/s, 1/s per chat, \(telegramGroupRate)/min per group" }
}

struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Promote due delayed jobs and enqueue periodic schedules. Any number may run; one leads.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Seconds the leader lock lasts without renewal.")
    var leaderTTL: Int = 10

    func run() async throws {
        let logger = global.logger("thepred.scheduler")
        let signals = ShutdownSignals(logger: logger)
        let driver = try await global.connectedDriver()
        var config = SchedulerService.Configuration()
        config.leaderTTL = .seconds(leaderTTL)
        config.queues = try AppKinds.registry().queues
        let scheduler = SchedulerService(
            driver: driver, coordinator: RedisSchedulerCoordinator(connection: driver.connection, keys: driver.keys),
            schedules: AppSchedules.all(), configuration: config, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: scheduler)], logger: logger))
        signals.hand(to: group)
        try await group.run()
    }
}
