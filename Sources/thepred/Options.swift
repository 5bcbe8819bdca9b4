import ArgumentParser
import Foundation
import Consumers
import Jobs
import Logging

/// Options every command shares.
struct GlobalOptions: ParsableArguments {
    // Secrets get no default in the declaration: --help prints defaults, and these may hold a
    // password from the environment.
    @Option(name: .customLong("redis-url"), help: "Redis URL, redis://[:password@]host[:port][/db]. Env: REDIS_URL. Default: \(RedisConfiguration.defaultURL).")
    var redisURLOption: String?

    var redisURL: String { redisURLOption ?? ProcessInfo.processInfo.environment["REDIS_URL"] ?? RedisConfiguration.defaultURL }

    @Option(name: .long, help: "Prefix of every Redis key. Env: THEPRED_KEY_PREFIX.")
    var keyPrefix: String = ProcessInfo.processInfo.environment["THEPRED_KEY_PREFIX"] ?? "thepred"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical. Env: LOG_LEVEL.")
    var logLevel: String = ProcessInfo.processInfo.environment["LOG_LEVEL"] ?? "info"

    @Option(name: .long, help: "How long finished jobs stay readable by id, in seconds. Env: JOB_STATUS_RETENTION.")
    var statusRetention: Int = Int(ProcessInfo.processInfo.environment["JOB_STATUS_RETENTION"] ?? "") ?? 86_400

    @Option(name: .long, help: "Most dead letters kept per queue; older ones are dropped, counted and logged. 0 keeps all. Env: DEAD_LETTER_LIMIT.")
    var deadLetterLimit: Int = Int(ProcessInfo.processInfo.environment["DEAD_LETTER_LIMIT"] ?? "") ?? 100_000

    func logger(_ label: String) -> Logger {
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
}

/// A failure the CLI reports in one line and exits 1 for.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

func describe(_ error: any Error) -> String {
    if let e = error as? RedisError { return e.message.isEmpty ? e.description : e.message }
    return "\(error)"
}

func parseQueue(_ text: String) throws -> QueueName {
    do { return try QueueName(validating: text) } catch { throw ValidationError(error.message) }
}

func parseQueues(_ text: String) throws -> [QueueName] {
    try text.split(separator: ",").map { try parseQueue(String($0).trimmingCharacters(in: .whitespaces)) }
}

/// Milliseconds since the epoch, from an ISO 8601 time or a distance from now such as 30m, 2h, 7d,
/// counted back (`ago`) or forward.
func parseTime(_ text: String, option: String, ago: Bool) throws -> Int64 {
    let units: [Character: Int64] = ["s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000]
    if let unit = text.last, let scale = units[unit], let n = Int64(text.dropLast().drop { $0 == "+" }) {
        return SystemJobClock().nowMillis() + (ago ? -1 : 1) * n * scale
    }
    if let date = ISO8601DateFormatter().date(from: text) { return Int64(date.timeIntervalSince1970 * 1000) }
    throw ValidationError("\(option) wants an ISO 8601 time or a distance like 30m, 2h, 7d; got '\(text)'")
}

func parseSince(_ text: String) throws -> Int64 { try parseTime(text, option: "--since", ago: true) }

func formatTime(_ millis: Int64?) -> String {
    guard let millis else { return "-" }
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
}

func formatAge(_ millis: Int64?) -> String {
    guard let millis else { return "-" }
    if millis < 1_000 { return "\(millis)ms" }
    if millis < 60_000 { return String(format: "%.1fs", Double(millis) / 1000) }
    if millis < 3_600_000 { return "\(millis / 60_000)m\(millis % 60_000 / 1000)s" }
    return "\(millis / 3_600_000)h\(millis % 3_600_000 / 60_000)m"
}

/// Prints rows as an aligned table.
func printTable(_ header: [String], _ rows: [[String]]) {
    var widths = header.map(\.count)
    for row in rows { for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }
    print(line(header))
    for row in rows { print(line(row)) }
}

/// Prints a value as pretty JSON.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Where PostgreSQL is, for the commands that use the domain database.
struct DatabaseOptions: ParsableArguments {
    static let defaultURL = "postgres://postgres@127.0.0.1:5433/thepred"

    @Option(name: .customLong("database-url"), help: "PostgreSQL connection URL. Env: DATABASE_URL. Default: \(DatabaseOptions.defaultURL).")
    var databaseURLOption: String?

    var databaseURL: String { databaseURLOption ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? DatabaseOptions.defaultURL }

    @Option(help: "PostgreSQL connections of a worker, each on a thread of its own. Env: DATABASE_POOL_SIZE.")
    var dbPoolSize: Int = Int(ProcessInfo.processInfo.environment["DATABASE_POOL_SIZE"] ?? "") ?? 4

    @Option(help: "Seconds one PostgreSQL statement of a worker may run (its statement_timeout), below the 30 s timeout of the shortest job kinds; settlement and leaderboard transactions raise it for themselves. Env: DATABASE_STATEMENT_TIMEOUT.")
    var dbStatementTimeout: Int = Int(ProcessInfo.processInfo.environment["DATABASE_STATEMENT_TIMEOUT"] ?? "")
        ?? Int(PostgresPool.defaultStatementTimeout.components.seconds)

    func validate() throws {
        guard (1...64).contains(dbPoolSize) else { throw ValidationError("--db-pool-size must be within 1...64") }
        guard (1...25).contains(dbStatementTimeout) else {
            throw ValidationError("--db-statement-timeout must be within 1...25 s: below the 30 s job timeout it guards")
        }
    }

    /// The URL with any password replaced, for messages.
    var redactedURL: String {
        guard let scheme = databaseURL.range(of: "://"), let at = databaseURL.range(of: "@", range: scheme.upperBound..<databaseURL.endIndex)
        else { return databaseURL }
        let userinfo = databaseURL[scheme.upperBound..<at.lowerBound]
        guard let colon = userinfo.firstIndex(of: ":") else { return databaseURL }
        return String(databaseURL[..<colon]) + ":***" + String(databaseURL[at.lowerBound...])
    }

    /// A pool that has answered a query, so commands fail with one clear message when PostgreSQL is away.
    /// `jobs` gives its statements the worker's deadline; tools (seed, audit, migrate) run without one.
    func connectedPool(size: Int? = nil, jobs: Bool = false) async throws -> PostgresPool {
        let pool = PostgresPool(
            url: databaseURL, size: size ?? dbPoolSize, statementTimeout: jobs ? .seconds(dbStatementTimeout) : nil)
        do {
            try await pool.query("SELECT 1")
        } catch {
            pool.close()
            throw CLIError("cannot reach PostgreSQL at \(redactedURL): \(error)")
        }
        return pool
    }
}

extension RedisQueueDriver {
    /// Makes every queue of the app's job kinds and its consumer group, so lookups by id and
    /// figures find them before any job has run.
    func prepareAppQueues() async throws {
        for queue in try AppKinds.registry().queues { try await prepare(queue: queue) }
    }
}
