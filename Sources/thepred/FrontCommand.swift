import ArgumentParser
import Foundation
import HTTPFront
import Jobs
import JobsRedis
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import ThePredRedis

/// `thepred front`: the HTTP front, until SIGTERM or SIGINT.
struct FrontCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "front",
        abstract: "Serve the HTTP API: validate, authenticate, enqueue.",
        discussion: """
            Users authenticate with Telegram Mini App init data (Authorization: tma <initData>), signed with
            the bot token; admins with Authorization: Bearer <admin token>. The front needs only Redis. On
            SIGTERM it stops accepting connections and finishes the requests in flight. The API is described
            in schemas/openapi.yaml, also served at /openapi.yaml.
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Address to listen on. Env: FRONT_HOST.")
    var host: String = ProcessInfo.processInfo.environment["FRONT_HOST"] ?? "127.0.0.1"
    @Option(help: "Port to listen on. Env: FRONT_PORT.")
    var port: Int = Int(ProcessInfo.processInfo.environment["FRONT_PORT"] ?? "") ?? 8080
    // The secrets get no default in the declaration: --help prints defaults.
    @Option(
        name: .customLong("telegram-bot-token"),
        help: "Bot token that signs Mini App init data. Shows in ps: prefer the env or the file. Never logged. Env: TELEGRAM_BOT_TOKEN.")
    var telegramBotTokenOption: String?
    @Option(
        name: .customLong("telegram-bot-token-file"),
        help: "A file holding the bot token (trailing newline ignored). Env: TELEGRAM_BOT_TOKEN_FILE.")
    var telegramBotTokenFile: String?
    @Option(
        name: .customLong("admin-token"),
        help:
            "Token admins send as Bearer, at least 16 characters; none turns admin routes off. Shows in ps: prefer the env or the file. Never logged. Env: ADMIN_TOKEN."
    )
    var adminTokenOption: String?
    @Option(
        name: .customLong("admin-token-file"), help: "A file holding the admin token (trailing newline ignored). Env: ADMIN_TOKEN_FILE.")
    var adminTokenFile: String?

    func botTokenSecret() throws -> Secret {
        try Secret.resolve(
            option: "telegram-bot-token", argument: telegramBotTokenOption, file: telegramBotTokenFile, env: "TELEGRAM_BOT_TOKEN")
    }
    func adminTokenSecret() throws -> Secret {
        try Secret.resolve(option: "admin-token", argument: adminTokenOption, file: adminTokenFile, env: "ADMIN_TOKEN")
    }
    @Option(name: .long, help: "Seconds after auth_date that init data is refused. Env: INIT_DATA_MAX_AGE.")
    var initDataMaxAge: Int = Int(ProcessInfo.processInfo.environment["INIT_DATA_MAX_AGE"] ?? "") ?? 86_400

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be within 1...65535") }
        guard initDataMaxAge >= 1 else { throw ValidationError("--init-data-max-age must be at least 1") }
        guard !(try botTokenSecret().value.isEmpty) else {
            throw ValidationError(
                "a bot token is needed to check init data: set TELEGRAM_BOT_TOKEN or TELEGRAM_BOT_TOKEN_FILE (or --telegram-bot-token-file)"
            )
        }
        let admin = try adminTokenSecret().value
        if !admin.isEmpty && admin.unicodeScalars.count < FrontConfiguration.minAdminTokenLength {
            throw ValidationError("the admin token must have at least \(FrontConfiguration.minAdminTokenLength) characters")
        }
    }

    func run() async throws {
        let logger = global.logger("thepred.front")
        let signals = ShutdownSignals(logger: logger)
        var redis = try RedisConfiguration(url: global.redisURL)
        // A Redis that is down or hung must turn into a quick 503, not a hanging request.
        redis.connectTimeout = .seconds(1)
        redis.maxReconnectBackoff = .milliseconds(500)
        var config = RedisQueueDriver.Configuration(
            redis: redis, keys: RedisKeys(prefix: global.keyPrefix), statusRetention: .seconds(global.statusRetention))
        config.commandTimeout = .seconds(2)
        let driver = RedisQueueDriver(configuration: config, logger: global.logger("thepred.redis"))
        do {
            // Job lookups by id search the known queues; a front may start before any worker.
            try await driver.prepareAppQueues()
        } catch {
            logger.warning(
                "Redis is out of reach at start; the front answers 503 until it is back",
                metadata: ["redis": "\(redis.redactedURL)", "error": "\(describe(error))"])
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let deps = FrontDependencies(
            driver: driver, board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys), ping: { try await driver.ping() },
            registry: registry)
        let (bot, admin) = (try botTokenSecret(), try adminTokenSecret())
        if bot.fromArgument { logger.warning("\(Secret.warning(option: "telegram-bot-token", env: "TELEGRAM_BOT_TOKEN"))") }
        if admin.fromArgument { logger.warning("\(Secret.warning(option: "admin-token", env: "ADMIN_TOKEN"))") }
        let front: FrontConfiguration
        do {
            front = try FrontConfiguration(
                host: host, port: port, botToken: bot.value, adminToken: admin.value.isEmpty ? nil : admin.value,
                initDataMaxAge: .seconds(initDataMaxAge))
        } catch { throw CLIError("\(error)") }
        if front.adminToken == nil { logger.warning("ADMIN_TOKEN is not set: admin routes answer 401") }
        let app = HTTPFront.application(configuration: front, dependencies: deps, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: app)], logger: logger))
        signals.hand(to: group)
        logger.info("front listening", metadata: ["address": "\(host):\(port)", "redis": "\(redis.redactedURL)"])
        try await group.run()
    }
}
