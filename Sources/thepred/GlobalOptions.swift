import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Logging
import Postgres
import ThePredKinds

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    // Secrets get no default in the declaration: --help prints defaults, and these may hold a
    // password from the environment.
    @Option(
        name: .customLong("redis-url"),
        help: "Redis URL, redis://[:password@]host[:port][/db]. Env: REDIS_URL. Default: \(RedisConfiguration.defaultURL).")
    var redisURLOption: String?

    var redisURL: String { redisURLOption ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? RedisConfiguration.defaultURL }

    @Option(name: .long, help: "Prefix of every Redis key. Env: THEPRED_KEY_PREFIX.")
    var keyPrefix: String = ProcessInfo.processInfo.environment["THEPRED_KEY_PREFIX"] ?? "thepred"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical. Env: LOG_LEVEL.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    @Option(name: .long, help: "Log lines as text, or json: one object per line with the job, kind, queue and attempt. Env: LOG_FORMAT.")
    var logFormat: LogFormat = LogFormat(rawValue: ProcessInfo.processInfo.environment["LOG_FORMAT"] ?? "") ?? .text

    @Option(name: .long, help: "How long finished jobs stay readable by id, in seconds. Env: JOB_STATUS_RETENTION.")
    var statusRetention: Int = Int(ProcessInfo.processInfo.environment["JOB_STATUS_RETENTION"] ?? "") ?? 86_400

    @Option(
        name: .long,
        help: "Most dead letters kept per queue; older ones are dropped, counted and logged. 0 keeps all. Env: DEAD_LETTER_LIMIT.")
    var deadLetterLimit: Int = Int(ProcessInfo.processInfo.environment["DEAD_LETTER_LIMIT"] ?? "") ?? 100_000

    func validate() throws {
        if let raw = ProcessInfo.processInfo.environment["LOG_FORMAT"], !raw.isEmpty, LogFormat(rawValue: raw) == nil {
            throw ValidationError("LOG_FORMAT must be text or json; got \(raw)")
        }
    }

    func logger(_ label: String) -> Logger {
        logFormat.bootstrap()
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }

    func driver() throws -> RedisQueueDriver {
        let redis = try RedisConfiguration(url: redisURL)
        var configuration = RedisQueueDriver.Configuration(
            redis: redis, keys: RedisKeys(prefix: keyPrefix), statusRetention: .seconds(statusRetention))
        configuration.deadLetterLimit = max(0, deadLetterLimit)
        return RedisQueueDriver(configuration: configuration, logger: logger("thepred.redis"))
    }

    /// A driver that has answered a PING, so commands fail with one clear message when Redis is away.
    func connectedDriver() async throws -> RedisQueueDriver {
        let driver = try driver()
        do {
            try await driver.ping()
        } catch {
            throw CLIError("cannot reach Redis at \(driver.configuration.redis.redactedURL): \(describe(error))")
        }
        do {
            try await driver.checkServerVersion()
        } catch let error as RedisError where error.code == .unsupportedServer {
            throw CLIError("\(error.message) (at \(driver.configuration.redis.redactedURL))")
        }
        return driver
    }

    /// A connected driver whose times come from Redis's clock, measured once before it returns,
    /// and the clock, for the worker's and scheduler's ``ClockSyncService``. Due times, snoozes,
    /// promotion, heartbeats and liveness then agree across machines whose clocks do not.
    func clockedDriver() async throws -> (RedisQueueDriver, RedisServerClock) {
        let plain = try await connectedDriver()
        let clock = RedisServerClock(connection: RedisConnection(plain.configuration.redis, name: "redis-clock"))
        do {
            let offset = try await clock.sync()
            if abs(offset) > 1_000 {
                logger("thepred.redis").warning(
                    "this machine's clock is off from Redis's; following Redis's", metadata: ["offset_ms": "\(offset)"])
            }
        } catch {
            throw CLIError("cannot read Redis's clock at \(plain.configuration.redis.redactedURL): \(describe(error))")
        }
        return (RedisQueueDriver(configuration: plain.configuration, clock: clock, logger: logger("thepred.redis")), clock)
    }
}
