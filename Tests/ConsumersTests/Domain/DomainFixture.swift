import Foundation
@testable import Game
import Jobs
@testable import JobsWorker
import Logging
import OperatorTools
import Postgres
import Producers
import Telegram
import TestSupport
import Testing
import ThePredKinds

/// A migrated database of its own, an in-memory queue, and the domain handlers, run directly.
struct DomainFixture {
    let fresh: FreshDatabase
    let db: PostgresPool
    let driver: MemoryQueueDriver
    let client: JobClient
    let handlers: JobHandlers

    static func make(settlementChunk: Int = 5_000, fanoutChunk: Int = 1_000, telegram: TelegramDelivery? = nil) async throws
        -> DomainFixture
    {
        let fresh = FreshDatabase()
        try await fresh.create().close()
        let db = PostgresPool(url: TestPostgres.url(database: fresh.name), size: 3)
        let migration = PostgresConnection(url: TestPostgres.url(database: fresh.name))
        try await Migrator(directory: Migrator.defaultDirectory).migrate(migration)
        migration.close()
        let driver = MemoryQueueDriver()
        var deps = AppHandlers.Dependencies(database: db)
        deps.settlementChunk = settlementChunk
        deps.fanoutChunk = fanoutChunk
        deps.telegram = telegram
        return DomainFixture(
            fresh: fresh, db: db, driver: driver, client: JobClient(driver: driver), handlers: try AppHandlers.all(deps))
    }

    func drop() async throws {
        db.close()
        try await fresh.admin.query("DROP DATABASE IF EXISTS \(fresh.name) WITH (FORCE)")
        fresh.admin.close()
    }

    /// Runs one job of `kind` through its handler, as a worker would; `id` repeats a delivery.
    func run<P>(
        _ kind: JobKind<P>, _ payload: P, id: JobID = .generate(millis: 1), deliveries: Int = 1, attempt: Int = 1,
        idempotencyKey: String? = nil
    ) async throws {
        let bytes = Array(try JSONCoding.encoder.encode(payload))
        try await handlers.run(
            bytes, context: context(kind, id: id, deliveries: deliveries, attempt: attempt, idempotencyKey: idempotencyKey))
    }

    /// The context a worker would give a job of `kind`, for calling a handler directly.
    func context<P>(
        _ kind: JobKind<P>, id: JobID = .generate(millis: 1), deliveries: Int = 1, attempt: Int = 1, idempotencyKey: String? = nil,
        client: JobClient? = nil
    ) -> JobContext {
        JobContext(
            id: id, kind: kind.name.rawValue, queue: kind.queue, attempt: attempt, deliveries: deliveries,
            enqueuedAt: SystemJobClock().nowMillis(), notBefore: nil, idempotencyKey: idempotencyKey, traceContext: nil,
            logger: Logger(label: "test"),
            client: client ?? self.client)
    }

    /// Runs the `onDead` hook of `kind`, as a worker does before burying a job.
    func bury<P>(_ kind: JobKind<P>, _ payload: P, id: JobID, reason: DeadReason = .exhausted, message: String = "buried") async throws {
        let entry = try #require(handlers.entry(for: kind.name.rawValue))
        let hook = try #require(entry.onDead, "\(kind.name) has no onDead hook")
        try await hook(
            Array(try JSONCoding.encoder.encode(payload)),
            JobDeath(id: id, idempotencyKey: nil, reason: reason, message: message, logger: Logger(label: "test")))
    }

    /// Runs a job and returns the reason of the expected refusal (`rejected`) it must end in.
    func rejection<P>(_ kind: JobKind<P>, _ payload: P) async throws -> String {
        do {
            try await run(kind, payload)
        } catch let failure as JobFailure where failure.isRejected {
            return failure.reason
        } catch {
            Issue.record("\(kind.name) ended in \(error), not a rejection")
            return ""
        }
        Issue.record("\(kind.name) was not rejected")
        return ""
    }

    /// Runs a job and returns the reason of the permanent failure it must end in.
    func failure<P>(_ kind: JobKind<P>, _ payload: P) async throws -> String {
        do {
            try await run(kind, payload)
        } catch let failure as JobFailure where failure.isPermanent {
            return failure.reason
        } catch {
            Issue.record("\(kind.name) ended in \(error), not a permanent failure")
            return ""
        }
        Issue.record("\(kind.name) did not fail permanently")
        return ""
    }

    /// Takes every ready job of `kind` off its queue.
    func take<P>(_ kind: JobKind<P>) async throws -> [P] {
        try await takeJobs(kind).map(\.payload)
    }

    /// Takes every ready job of `kind` off its queue, with its id.
    func takeJobs<P>(_ kind: JobKind<P>) async throws -> [(id: JobID, payload: P)] {
        var out: [(id: JobID, payload: P)] = []
        while true {
            let jobs = try await driver.fetch(queue: kind.queue, consumer: "test", maxCount: 1_000, blockFor: .zero)
            if jobs.isEmpty { return out }
            for job in jobs where job.envelope.kind == kind.name.rawValue {
                out.append((job.envelope.id, try JSONCoding.decoder.decode(P.self, from: Data(job.envelope.payload))))
            }
            try await driver.complete(jobs.map { .succeeded($0) }, queue: kind.queue)
        }
    }

    /// Runs the market's `markets.notify` to its end, taking what it queues between runs as the
    /// lanes would drain it; returns the messages and mission events in the order queued.
    func notifications(of market: Int64, expectQueued: Bool = true) async throws -> (messages: [TelegramSend], events: [MissionsProgress]) {
        if expectQueued {
            #expect(try await take(MarketsNotify.kind) == [MarketsNotify(marketID: market)], "the resolve queued no producer")
        }
        var messages: [TelegramSend] = []
        var events: [MissionsProgress] = []
        for _ in 0..<10_000 {
            var done = true
            do {
                try await run(MarketsNotify.kind, MarketsNotify(marketID: market))
            } catch let failure as JobFailure where failure.snoozeDelay != nil {
                done = false
            }
            messages += try await take(TelegramSend.resultsKind)
            events += try await take(MissionsProgress.kind)
            if done { return (messages, events) }
        }
        Issue.record("markets.notify did not end")
        return (messages, events)
    }

    /// Runs every queued mission event, as the missions workers would.
    func runMissionEvents() async throws {
        for event in try await take(MissionsProgress.kind) { try await run(MissionsProgress.kind, event) }
    }

    // MARK: Rows

    @discardableResult
    func user(telegramID: Int64, balance: Int64 = 10_000, banned: Bool = false) async throws -> Int64 {
        let rows = try await db.query(
            "INSERT INTO users (telegram_id, username, balance, banned) VALUES ($1, $2, $3, $4) RETURNING id",
            [.int(telegramID), .text("u\(telegramID)"), .int(balance), .bool(banned)])
        // The ledger must explain a balance other than the 10,000 every user starts with.
        let id = try rows.int(0, "id")
        if balance != 10_000 {
            try await db.query(
                "INSERT INTO transactions (user_id, type, amount, effect_key) VALUES ($1, 'REFERRAL', $2, $3)",
                [.int(id), .int(balance - 10_000), .text("fixture:\(id)")])
        }
        return id
    }

    @discardableResult
    func market(
        title: String = "Will it rain?", category: MarketCategory = .crypto, endsIn seconds: Int64 = 86_400,
        yes: Int64 = 0, no: Int64 = 0
    ) async throws -> Int64 {
        try await db.query(
            """
            INSERT INTO markets (title, category, end_date, total_yes_bets, total_no_bets, total_pool)
            VALUES ($1, $2, now() + make_interval(secs => $3::bigint), $4, $5, $4::bigint + $5::bigint) RETURNING id
            """, [.text(title), .text(category.rawValue), .int(seconds), .int(yes), .int(no)]
        ).int(0, "id")
    }

    func bet(_ telegramID: Int64, on market: Int64, _ outcome: BetOutcome, stake: Int64) async throws {
        try await run(BetsPlace.kind, BetsPlace(telegramID: telegramID, marketID: market, outcome: outcome, stake: stake))
    }

    func int(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> Int64 {
        let rows = try await db.query(sql, parameters)
        return try rows.int(0, rows.columns[0])
    }

    func string(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> String? {
        let rows = try await db.query(sql, parameters)
        return rows.isEmpty ? nil : rows[0, rows.columns[0]]
    }

    /// A digest of every domain table, to show that a refused job changed nothing.
    func fingerprint() async throws -> String {
        var parts: [String] = []
        for table in [
            "users", "markets", "bets", "transactions", "user_missions", "mission_events", "leaderboard_periods",
            "leaderboard_snapshots", "job_outbox", "market_notifications", "settlement_winners",
        ] {
            parts.append(try await string("SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \(table) t") ?? "")
        }
        return parts.joined(separator: ",")
    }

    /// `thepred audit` over the whole database finds nothing.
    func expectAuditClean(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await Auditor().run(on: db)
        #expect(
            report.isClean, "\(report.findings.filter { $0.violations > 0 }.map { "\($0.title): \($0.examples)" })",
            sourceLocation: sourceLocation)
    }

    /// The audit's ledger checks find nothing: balances against the ledger, one payout per bet.
    /// (Tests that set users' counters by hand cannot pass the whole audit.)
    func expectLedgerConsistent(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let report = try await Auditor().run(on: db)
        for check in [Auditor.Check.balances, .betPayouts] {
            #expect(report[check].violations == 0, "\(report[check].title): \(report[check].examples)", sourceLocation: sourceLocation)
        }
    }
}
