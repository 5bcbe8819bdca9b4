import ArgumentParser
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
import ThePredKinds

struct SettleBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settle",
        abstract: "Seed a market with N bets, resolve it through the real queue and a worker, and print bets/s.",
        discussion: """
            Works in a scratch database made on the server of --database-url and dropped afterwards, and under
            a throwaway Redis key prefix. Phases: (1) seed one Active market with --bets pending bets; (2) enqueue
            markets.resolve and let one in-process worker settle it, timing from the enqueue to the moment the
            job finished; the same worker runs the market's markets.notify, which fills the results and missions
            queues to their top-up and waits (nothing drains them), and Redis's used_memory is sampled every
            50 ms from before the enqueue to 2 s after the job finished, for its peak; (3) the old system's way on
            --old-bets bets of a second market: one transaction, one statement per bet and change, one Redis
            round trip per notification; (4) `thepred audit` over the result.
            """)

    @OptionGroup var global: GlobalOptions
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Bets on the market to settle.") var bets = 1_000_000
    @Option(help: "Users who placed them. Default: bets / 10, at least 10.") var users: Int?
    @Option(help: "Bets settled the old way, one round trip per bet, for the comparison; 0 skips it.") var oldBets = 20_000
    @Option(help: "Bets per settlement chunk.") var chunk = 5_000
    @Option(help: "Settlement chunks in flight at once.") var lanes = 2
    @Option(help: "YES, NO or CANCELLED.") var result: MarketsResolve.Result = .yes
    @Option(help: "Seed of the data set.") var seed: UInt64 = 1
    @Flag(help: "Keep the scratch database (its name is printed).") var keep = false

    func validate() throws {
        guard (1...10_000_000).contains(bets) else { throw ValidationError("--bets must be within 1...10,000,000") }
        guard (0...1_000_000).contains(oldBets) else { throw ValidationError("--old-bets must be within 0...1,000,000") }
        guard (1...100_000).contains(chunk) else { throw ValidationError("--chunk must be within 1...100,000") }
    }

    func run() async throws {
        try await withScratchDatabase(database, keep: keep) { name, url in
            print("thepred bench settle: \(bets) bets, chunk \(chunk), \(lanes) lanes, result \(result.rawValue); scratch database \(name)")
            try await bench(url: url)
        }
    }

    func bench(url: String) async throws {
        let conn = PostgresConnection(url: url, name: "bench-seed")
        defer { conn.close() }
        try await Migrator(directory: Migrator.defaultDirectory).migrate(conn)
        let version = try await conn.query("SHOW server_version")[0, "server_version"] ?? "?"
        print("postgresql \(version), \(ProcessInfo.processInfo.activeProcessorCount) cores")

        let market = try await seed(conn)
        let prefix = "thepred-bench-\(UInt32.random(in: 0 ... .max))"
        let redis = try RedisConfiguration(url: global.redisURL)
        let rate = try await resolveThroughQueue(market, url: url, redis: redis, prefix: prefix)
        if oldBets > 0 {
            try await settleTheOldWay(conn, redis: redis, prefix: prefix + "-old", rate: rate)
        }
        try await audit(conn)
    }

    /// Phase 1: one Active market with `--bets` pending bets; returns its id.
    private func seed(_ conn: PostgresConnection) async throws -> Int64 {
        let seeded = try await Seeder(
            .init(
                users: users ?? max(10, bets / 10), markets: 1, bets: bets, seed: seed, resolvedFraction: 0)
        ).run(on: conn)
        let market = try required(seeded.activeMarketIDs.first, "the seeder made no active market")
        print(
            String(
                format: "seed:        %d bets, %d users in %.2f s (%.0f rows/s)", seeded.bets, seeded.users, seeded.seconds,
                seeded.rowsPerSecond))
        return market
    }

    /// Phase 2: resolves `market` through the queue and an in-process worker; returns bets/s.
    /// The worker also runs the market's `markets.notify`, and nothing drains the results and
    /// missions queues, so Redis holds what a settlement and its backlog put there at most.
    private func resolveThroughQueue(_ market: Int64, url: String, redis: RedisConfiguration, prefix: String) async throws -> Double {
        let keys = RedisKeys(prefix: prefix)
        let driver = RedisQueueDriver(
            configuration: .init(redis: redis, keys: keys, statusRetention: .seconds(600)), logger: global.logger("thepred.redis"))
        do { try await driver.ping() } catch { throw CLIError("cannot reach Redis at \(redis.redactedURL): \(describe(error))") }
        let pool = PostgresPool(url: url, size: lanes + 3, name: "bench-worker")
        defer { pool.close() }
        let group = try await workerGroup(driver, pool)
        let idle = try await BenchRedis.redisMemory(driver)
        let sampler = RedisMemorySampler(redis: redis, keys: keys)
        let (settleTime, firstMessage): (Duration, Duration) = try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let times = try await resolve(market, driver, pool)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return times
        }
        let peak = await sampler.stop()
        let messages = try await driver.stats(queue: TelegramSend.resultsKind.queue).ready
        let events = try await driver.stats(queue: MissionsProgress.kind.queue).ready
        let backlog = try required(try await MarketNotificationBacklog.status(market, db: pool), "the market has no notification backlog")
        let rate = Double(bets) / settleTime.inSeconds
        print(
            String(
                format: "settle:      %9.0f bets/s  (%lld bets; the market resolved %.2f s after the resolve job was enqueued)",
                rate, backlog.totalBets, settleTime.inSeconds))
        print(
            String(
                format: "notify:      first result message queued at %.2f s; in Redis %d telegram.send.results and %d missions.progress "
                    + "jobs, in PostgreSQL %lld messages and %lld winners' events still to produce",
                firstMessage.inSeconds, messages, events, backlog.toProduce, backlog.eventsLeft))
        print(
            String(
                format: "redis:       used_memory idle %.1f MiB, peak %.1f MiB: +%.1f MiB during the settlement and its backlog",
                Double(idle) / 1_048_576, Double(peak) / 1_048_576, Double(peak - idle) / 1_048_576))
        try await BenchRedis.deleteKeys(prefix: prefix, driver: driver)
        return rate
    }

    /// One worker on the markets queue (resolve and notify), with the app's handlers and this run's chunk and lanes.
    private func workerGroup(_ driver: RedisQueueDriver, _ pool: PostgresPool) async throws -> ServiceGroup {
        var deps = AppHandlers.Dependencies(database: pool)
        deps.settlementChunk = chunk
        deps.settlementLanes = lanes
        let handlers = try AppHandlers.all(deps)
        try await driver.prepareAppQueues()
        var config = WorkerService.Configuration(queues: [MarketsResolve.kind.queue], consumerName: "bench")
        config.concurrency = 2
        var logger = global.logger("thepred.worker")
        logger.logLevel = .info
        let worker = WorkerService(driver: driver, handlers: handlers, configuration: config, logger: logger)
        return ServiceGroup(configuration: .init(services: [worker], logger: logger))
    }

    /// Enqueues the resolve job and waits until it has succeeded and its producer has filled the
    /// queues it may; returns the time from the enqueue to the success and to the first message.
    private func resolve(_ market: Int64, _ driver: RedisQueueDriver, _ pool: PostgresPool) async throws -> (Duration, Duration) {
        let client = JobClient(driver: driver)
        let t0 = ContinuousClock.now
        let job = try await client.enqueue(MarketsResolve.kind, MarketsResolve(marketID: market, result: result)).id
        var lastPrint = t0
        var settled: Duration?
        var first: Duration?
        while true {
            if settled == nil, let status = try await driver.job(job, queue: MarketsResolve.kind.queue)?.status {
                if status == .succeeded { settled = ContinuousClock.now - t0 }
                if status == .dead || status == .retrying {
                    throw CLIError(
                        "the resolve job ended \(status): \(try await driver.job(job, queue: MarketsResolve.kind.queue)?.lastError ?? "")")
                }
            }
            let queued = try await driver.stats(queue: TelegramSend.resultsKind.queue).ready
            if first == nil, queued > 0 { first = ContinuousClock.now - t0 }
            if let settled, let first, let backlog = try await MarketNotificationBacklog.status(market, db: pool),
                backlog.queued >= min(300, backlog.totalBets - backlog.skipped), ContinuousClock.now - t0 > settled + .seconds(2)
            {
                return (settled, first)
            }
            // Counting a million-bet market's pending bets costs PostgreSQL about 0.2 s of the
            // cores the settlement runs on, so the count is rare.
            if ContinuousClock.now - lastPrint > .seconds(5) {
                lastPrint = ContinuousClock.now
                let pending =
                    try await pool.query(
                        "SELECT count(*) AS n FROM bets WHERE market_id = $1 AND status = 'PENDING'", [.int(market)])[0, "n"] ?? "?"
                FileHandle.standardError.write(Data("  … \(pending) bets pending, \(queued) messages queued\n".utf8))
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Phase 3: `--old-bets` bets of a second market settled one round trip at a time, compared with `rate`.
    private func settleTheOldWay(_ conn: PostgresConnection, redis: RedisConfiguration, prefix oldPrefix: String, rate: Double) async throws
    {
        let old = try await Seeder(
            .init(
                users: max(10, oldBets / 10), markets: 1, bets: oldBets, seed: seed &+ 1, resolvedFraction: 0)
        ).run(on: conn)
        let oldMarket = try required(old.activeMarketIDs.first, "the seeder made no active market")
        let oldDriver = RedisQueueDriver(
            configuration: .init(redis: redis, keys: RedisKeys(prefix: oldPrefix)), logger: global.logger("thepred.redis"))
        try await oldDriver.prepare(queue: TelegramSend.kind.queue)
        let t1 = ContinuousClock.now
        try await Self.settleOneByOne(market: oldMarket, result: result, conn: conn, client: JobClient(driver: oldDriver))
        let oldTime = ContinuousClock.now - t1
        let oldRate = Double(oldBets) / oldTime.inSeconds
        print(
            String(
                format: "old way:     %9.0f bets/s  (%d bets, one round trip per statement and per notification, in %.2f s; "
                    + "%.1f h for %d bets)", oldRate, oldBets, oldTime.inSeconds, Double(bets) / oldRate / 3600, bets))
        print(String(format: "ratio:       %.1fx faster than the old way", rate / oldRate))
        try await BenchRedis.deleteKeys(prefix: oldPrefix, driver: oldDriver)
    }

    /// Phase 4: `thepred audit` over the scratch database; a violation fails the run.
    private func audit(_ conn: PostgresConnection) async throws {
        let audit = try await Auditor().run(on: conn)
        print(
            String(
                format: "audit:       %d violations over %d users and %d bets (%.2f s)", audit.violations, audit.users, audit.bets,
                audit.seconds))
        if !audit.isClean { throw CLIError("the audit found violations") }
    }

    /// The old system's settlement: load the bets, then per bet an UPDATE of the bet, an INSERT
    /// into the ledger for a payout, an UPDATE of the user, and a notification, each its own
    /// round trip, all in one transaction.
    static func settleOneByOne(market: Int64, result: MarketsResolve.Result, conn: PostgresConnection, client: JobClient) async throws {
        try await conn.query("BEGIN")
        let rows = try await conn.query(
            """
            SELECT b.id, b.user_id, b.outcome, b.stake, b.potential_win, u.telegram_id FROM bets b JOIN users u ON u.id = b.user_id
             WHERE b.market_id = $1 AND b.status = 'PENDING' ORDER BY b.id
            """, [.int(market)])
        for r in rows.rows {
            guard let id = r[0].flatMap({ Int64($0) }), let user = r[1].flatMap({ Int64($0) }), let outcome = r[2],
                let stake = r[3].flatMap({ Int64($0) }), let win = r[4].flatMap({ Int64($0) }), let tg = r[5].flatMap({ Int64($0) })
            else { throw CLIError("unexpected bet row") }
            let status = result == .cancelled ? "REFUNDED" : outcome == result.rawValue ? "WON" : "LOST"
            try await conn.query("UPDATE bets SET status = $2, resolved_at = now() WHERE id = $1", [.int(id), .text(status)])
            let message: TelegramSend
            switch status {
            case "WON":
                try await conn.query(
                    "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES ($1, 'WIN', $2, $3)",
                    [.int(user), .int(win), .text("bet:\(id):WIN")])
                try await conn.query(
                    """
                    UPDATE users SET balance = balance + $2, total_wins = total_wins + 1, win_streak = win_streak + 1,
                           best_streak = greatest(best_streak, win_streak + 1) WHERE id = $1
                    """, [.int(user), .int(win)])
                message = TelegramSend(telegramID: tg, kind: .betWon, text: "You won \(win) PRED")
            case "LOST":
                try await conn.query(
                    "UPDATE users SET total_losses = total_losses + 1, win_streak = 0 WHERE id = $1", [.int(user)])
                message = TelegramSend(telegramID: tg, kind: .betLost, text: "Your bet of \(stake) PRED lost")
            default:
                try await conn.query(
                    "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES ($1, 'REFUND', $2, $3)",
                    [.int(user), .int(stake), .text("bet:\(id):REFUND")])
                try await conn.query("UPDATE users SET balance = balance + $2 WHERE id = $1", [.int(user), .int(stake)])
                message = TelegramSend(telegramID: tg, kind: .marketResolved, text: "Refund \(stake) PRED")
            }
            try await client.enqueue(TelegramSend.kind, message)
        }
        try await conn.query(
            "UPDATE markets SET status = 'Resolved', result = $2, resolution = $2, resolved_at = now() WHERE id = $1",
            [.int(market), .text(result == .cancelled ? "NO" : result.rawValue)])
        try await conn.query("COMMIT")
    }

    /// `url` with its database name replaced.
    static func url(_ url: String, database: String) -> String {
        guard let scheme = url.range(of: "://") else { return url + " dbname=\(database)" }
        let rest = url[scheme.upperBound...]
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        let query = rest[pathStart...].firstIndex(of: "?").map { String(rest[$0...]) } ?? ""
        return String(url[..<pathStart]) + "/" + database + query
    }
}

/// Runs `body` on a fresh database (name and URL) on the server of `database`, and drops it
/// afterwards unless `keep`, also when `body` fails.
func withScratchDatabase(
    _ database: DatabaseOptions, keep: Bool = false, _ body: (_ name: String, _ url: String) async throws -> Void
) async throws {
    let name = "thepred_bench_\(UInt32.random(in: 0 ... .max))"
    let admin = try await database.connectedPool(size: 1)
    defer { admin.close() }
    try await admin.query("CREATE DATABASE \(name)")  // a generated name, never input
    do {
        try await body(name, SettleBench.url(database.databaseURL, database: name))
    } catch {
        if !keep { _ = try? await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        throw error
    }
    if !keep { try await admin.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
}

/// Unwraps, or fails with a one-line CLI message.
func required<T>(_ value: T?, _ message: String) throws -> T {
    guard let value else { throw CLIError(message) }
    return value
}
