import ArgumentParser
import Foundation
import HTTPFront
import HTTPTypes
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

    @OptionGroup var metrics: MetricsOptions
    @Option(
        help:
            "Web origins a Mini App may call the API from, comma-separated (https://app.example.com); empty allows none. Env: FRONT_CORS_ORIGINS."
    )
    var corsOrigins: String = ProcessInfo.processInfo.environment["FRONT_CORS_ORIGINS"] ?? ""
    @Option(help: "Seconds a browser may keep a CORS preflight's answer. Env: FRONT_CORS_MAX_AGE.")
    var corsMaxAge: Int = Int(ProcessInfo.processInfo.environment["FRONT_CORS_MAX_AGE"] ?? "") ?? 600
    @Option(
        help:
            "Seconds a connection may take to send a whole request head, after opening or after its last answer (the idle timeout). Env: FRONT_IDLE_TIMEOUT."
    )
    var idleTimeout: Int = Int(ProcessInfo.processInfo.environment["FRONT_IDLE_TIMEOUT"] ?? "") ?? 30
    @Option(help: "Seconds a request body may take to arrive after its head. Env: FRONT_BODY_TIMEOUT.")
    var bodyTimeout: Int = Int(ProcessInfo.processInfo.environment["FRONT_BODY_TIMEOUT"] ?? "") ?? 30
    @Option(help: "Connections open at once; one more is closed as it opens. Env: FRONT_MAX_CONNECTIONS.")
    var maxConnections: Int = Int(ProcessInfo.processInfo.environment["FRONT_MAX_CONNECTIONS"] ?? "") ?? 4096
    @Option(help: "POST requests of one signed user, RATE/s,BURST or off, fleet-wide. Env: FRONT_RATE_USER_WRITES.")
    var rateUserWrites: String = ProcessInfo.processInfo.environment["FRONT_RATE_USER_WRITES"] ?? Self.defaultRule(\.userWrites)
    @Option(help: "GET requests of one signed user, RATE/s,BURST or off. Env: FRONT_RATE_USER_READS.")
    var rateUserReads: String = ProcessInfo.processInfo.environment["FRONT_RATE_USER_READS"] ?? Self.defaultRule(\.userReads)
    @Option(help: "Requests without valid credentials per client address, RATE/s,BURST or off. Env: FRONT_RATE_ADDRESS.")
    var rateAddress: String = ProcessInfo.processInfo.environment["FRONT_RATE_ADDRESS"] ?? Self.defaultRule(\.address)
    @Option(help: "Admin requests, all admins together, RATE/s,BURST or off. Env: FRONT_RATE_ADMIN.")
    var rateAdmin: String = ProcessInfo.processInfo.environment["FRONT_RATE_ADMIN"] ?? Self.defaultRule(\.admin)
    @Option(
        help:
            "Header a proxy of yours writes the client address to (X-Forwarded-For; its last entry counts); unset, the peer address counts. Env: FRONT_CLIENT_ADDRESS_HEADER."
    )
    var clientAddressHeader: String? = ProcessInfo.processInfo.environment["FRONT_CLIENT_ADDRESS_HEADER"]

    /// A default as `RATE/s,BURST`, from `FrontRateLimits` itself, so the two cannot differ.
    static func defaultRule(_ rule: KeyPath<FrontRateLimits, RateRule?>) -> String {
        FrontRateLimits()[keyPath: rule]?.description ?? "off"
    }

    /// The limits as given, or the first error.
    func rateLimits() throws -> FrontRateLimits {
        var limits = FrontRateLimits()
        do {
            limits.userWrites = try RateRule.parse(rateUserWrites)
            limits.userReads = try RateRule.parse(rateUserReads)
            limits.address = try RateRule.parse(rateAddress)
            limits.admin = try RateRule.parse(rateAdmin)
        } catch { throw ValidationError(error.message) }
        if let header = clientAddressHeader, !header.isEmpty {
            guard HTTPField.Name(header) != nil else { throw ValidationError("--client-address-header \(header) is not a header name") }
            limits.clientAddressHeader = header
        }
        return limits
    }

    func validate() throws {
        let metricsPort = metrics.port(.front)
        guard metricsPort == 0 || metricsPort != port || metrics.metricsHost != host else {
            throw ValidationError("--metrics-port must differ from --port: /metrics is served apart from the API")
        }
        guard idleTimeout >= 1, bodyTimeout >= 1 else { throw ValidationError("--idle-timeout and --body-timeout must be at least 1") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard corsMaxAge >= 0 else { throw ValidationError("--cors-max-age must be at least 0") }
        do { _ = try CORSPolicy(list: corsOrigins) } catch { throw ValidationError("\(error)") }
        _ = try rateLimits()
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
        // Before the Redis driver: its connections make their figures as they are created.
        let registry = ProcessMetrics.bootstrap(role: .front)
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
        let deps = FrontDependencies(
            driver: driver, board: RedisBroadcastBoard(connection: driver.connection, keys: driver.keys), ping: { try await driver.ping() },
            registry: registry, rateLimiter: RedisRateLimitDriver(connection: driver.connection, keys: driver.keys))
        let (bot, admin) = (try botTokenSecret(), try adminTokenSecret())
        if bot.fromArgument { logger.warning("\(Secret.warning(option: "telegram-bot-token", env: "TELEGRAM_BOT_TOKEN"))") }
        if admin.fromArgument { logger.warning("\(Secret.warning(option: "admin-token", env: "ADMIN_TOKEN"))") }
        var front: FrontConfiguration
        do {
            front = try FrontConfiguration(
                host: host, port: port, botToken: bot.value, adminToken: admin.value.isEmpty ? nil : admin.value,
                initDataMaxAge: .seconds(initDataMaxAge))
            front.idleTimeout = .seconds(idleTimeout)
            front.bodyTimeout = .seconds(bodyTimeout)
            front.maxConnections = maxConnections
            front.cors = try CORSPolicy(list: corsOrigins, maxAge: .seconds(corsMaxAge))
            front.rateLimits = try rateLimits()
        } catch { throw CLIError("\(error)") }
        if front.adminToken == nil { logger.warning("ADMIN_TOKEN is not set: admin routes answer 401") }
        let app = HTTPFront.application(configuration: front, dependencies: deps, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: app)]
        let metricsPort = metrics.port(.front)
        if metricsPort != 0 {
            let listener = HTTPFront.metricsApplication(dependencies: deps, host: metrics.metricsHost, port: metricsPort, logger: logger)
            services.append(.init(service: SecondaryService(listener, what: "metrics listener", logger: logger)))
        }
        let group = ServiceGroup(configuration: .init(services: services, logger: logger))
        signals.hand(to: group)
        logger.info(
            "front listening",
            metadata: [
                "address": "\(host):\(port)", "metrics": "\(metricsPort == 0 ? "off" : "\(metrics.metricsHost):\(metricsPort)")",
                "redis": "\(redis.redactedURL)", "cors_origins": "\(front.cors.origins.sorted().joined(separator: ","))",
            ])
        try await group.run()
    }
}
