import ArgumentParser
import Foundation
import Game
import Jobs
import JobsRedis
import JobsWorker
import Logging
import MetricsExport
import Postgres
import Producers
import ServiceLifecycle
import Telegram
import ThePredKinds
import ThePredRedis

struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "Run jobs from the given queues until SIGTERM or SIGINT, then drain.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var telegram: TelegramOptions
    @OptionGroup var metrics: MetricsOptions

    @Option(help: "Comma-separated queues to serve. Default: every queue a registered job kind uses. Env: WORKER_QUEUES.")
    var queues: String = ProcessInfo.processInfo.environment["WORKER_QUEUES"] ?? ""

    @Option(help: "Jobs run at once in this process. Env: WORKER_CONCURRENCY.")
    var concurrency: Int = Int(ProcessInfo.processInfo.environment["WORKER_CONCURRENCY"] ?? "") ?? 16

    @Option(
        help: """
            Most jobs of one queue in flight at once, as queue=N,queue=M. Default: telegram-results and \
            telegram-bulk each at 3/8 of --concurrency, so their sends, waiting their turn on the lane, \
            leave slots for the rest. Env: WORKER_QUEUE_CONCURRENCY.
            """)
    var queueConcurrency: String = ProcessInfo.processInfo.environment["WORKER_QUEUE_CONCURRENCY"] ?? ""

    @Option(help: "Seconds in-flight jobs may run on after a shutdown signal.")
    var grace: Int = 25

    @Option(help: "Seconds a job may be held without a lease renewal before another worker takes it over.")
    var visibilityTimeout: Int = 60

    @Option(help: "Deliveries after which a job that keeps crashing workers is buried as poison.")
    var maxDeliveries: Int = 10

    @Option(help: "Consumer name in the group. Default: host-pid-random.")
    var consumer: String?

    @Option(
        help: "Bets per settlement statement and transaction. Larger is faster in bulk but holds users' rows longer. Env: SETTLEMENT_CHUNK."
    )
    var settlementChunk: Int = Int(ProcessInfo.processInfo.environment["SETTLEMENT_CHUNK"] ?? "") ?? 5_000

    @Option(
        help: """
            PostgreSQL connections of their own for the Telegram delivery log's outcome writes (SENT, AMBIGUOUS), \
            so the write that closes a message's duplicate window never waits behind other jobs' statements; \
            0 shares --db-pool-size. Env: DELIVERY_LOG_CONNECTIONS.
            """)
    var deliveryLogConnections: Int = Int(ProcessInfo.processInfo.environment["DELIVERY_LOG_CONNECTIONS"] ?? "") ?? 2

    func validate() throws {
        guard (0...16).contains(deliveryLogConnections) else { throw ValidationError("--delivery-log-connections must be within 0...16") }
        guard concurrency >= 1 else { throw ValidationError("--concurrency must be at least 1") }
        _ = try queueCaps()
        guard grace >= 0 else { throw ValidationError("--grace must not be negative") }
        guard visibilityTimeout >= 1 else { throw ValidationError("--visibility-timeout must be at least 1") }
        guard maxDeliveries >= 1 else { throw ValidationError("--max-deliveries must be at least 1") }
        guard (100...100_000).contains(settlementChunk) else { throw ValidationError("--settlement-chunk must be within 100...100,000") }
    }

    func run() async throws {
        let logger = global.logger("thepred.worker")
        // Before any figure is made: swift-metrics handles bind to the backend at creation.
        let registry = ProcessMetrics.bootstrap(role: .worker)
        GameMetrics.register()
        let signals = ShutdownSignals(logger: logger)
        let pool = try await database.connectedPool(jobs: true)
        defer { pool.close() }
        var deps = AppHandlers.Dependencies(database: pool)
        var logPool: PostgresPool?
        defer { logPool?.close() }
        deps.settlementChunk = settlementChunk
        let (driver, clock) = try await global.clockedDriver()
        for warning in telegram.warnings { logger.warning("\(warning)") }
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
            if deliveryLogConnections > 0 {
                logPool = try await database.connectedPool(size: deliveryLogConnections, jobs: true, name: "delivery-log")
                deps.deliveryLog = logPool
            }
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
        config.queueConcurrency = try queueCaps()
        config.shutdownGrace = .seconds(grace)
        config.visibilityTimeout = .seconds(visibilityTimeout)
        config.maxDeliveries = maxDeliveries
        // Queue wait compares Redis-time stamps: it needs the same clock.
        config.middleware = [MetricsJobMiddleware(clock: clock)]
        // Follow-up jobs go to queues this worker may not serve (telegram.send before its handler
        // exists); preparing them makes their backlog show in `thepred queues`.
        try await driver.prepareAppQueues()
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config, clock: clock, logger: logger)
        // Stopped in reverse: the worker drains first, then the publisher's last flush carries the
        // statuses of the broadcasts it touched, and the metrics listener answers until the end.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        let refresh = ScrapeRefresh(driver: driver, queues: QueueGauges(registry: registry), progress: ProgressGauges(), db: pool)
        if let listener = ProcessMetrics.listener(
            metrics, role: .worker, registry: registry, logger: logger, refresh: refresh.callAsFunction,
            ready: ReadyProbe(driver: driver).callAsFunction)
        {
            services.append(listener)
        }
        services += [.init(service: ClockSyncService(clock: clock, logger: logger)), .init(service: publisher), .init(service: worker)]
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
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
                let hint =
                    missing.contains { TelegramSend.priority(ofKind: $0.name.rawValue) != nil }
                    ? " (telegram.send needs TELEGRAM_BOT_TOKEN)" : ""
                throw CLIError("cannot serve queue '\(queue)': this worker has no handler for \(names)\(hint)")
            }
        }
    }
}

extension WorkerCommand {
    /// `--queue-concurrency`, or the default caps of the two Telegram classes that wait their turn.
    func queueCaps() throws -> [QueueName: Int] {
        guard !queueConcurrency.isEmpty else {
            let cap = max(1, concurrency * 3 / 8)
            return [TelegramSend.resultsKind.queue: cap, TelegramSend.bulkKind.queue: cap]
        }
        var caps: [QueueName: Int] = [:]
        for part in queueConcurrency.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, let n = Int(pair[1]), n >= 1 else {
                throw ValidationError("--queue-concurrency takes queue=N pairs with N at least 1; got \(queueConcurrency)")
            }
            caps[try parseQueue(pair[0])] = n
        }
        return caps
    }
}
