import ArgumentParser
import Consumers
import Foundation

struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill a migrated database with realistic, consistent users, markets, bets and ledger rows.",
        discussion: """
            Users start at 10,000 PRED; bets are simulated in time order over the last 60 days, with odds \
            from the pools, and about a quarter of the markets are resolved and settled. The same --seed \
            on an empty database gives identical rows (timestamps are placed relative to 00:00 UTC today). \
            Appends to existing data: ids continue after the largest present. One transaction: on any \
            error nothing is written. `thepred audit` finds no violation afterwards.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Users to create.") var users: Int
    @Option(help: "Markets to create.") var markets: Int
    @Option(help: "Bets to place.") var bets: Int
    @Option(help: "Seed of the random choices.") var seed: UInt64 = 1
    @Option(help: "Share of markets already resolved and settled, 0...1.") var resolvedFraction: Double = 0.25

    func validate() throws {
        do {
            _ = try Seeder(.init(users: users, markets: markets, bets: bets, seed: seed, resolvedFraction: resolvedFraction))
        } catch let error as SeederError {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let seeder = try Seeder(.init(users: users, markets: markets, bets: bets, seed: seed, resolvedFraction: resolvedFraction))
        let db = PostgresConnection(url: database.databaseURL)
        defer { db.close() }
        print("seed \(seed): \(Seeder.grouped(users)) users, \(Seeder.grouped(markets)) markets, \(Seeder.grouped(bets)) bets")
        let report: Seeder.Report
        do {
            report = try await seeder.run(on: db) { line in print(line) }
        } catch let error as PostgresError {
            throw CLIError(error.code == .connection ? "cannot reach PostgreSQL: \(error.message)" : error.message)
        } catch let error as SeederError {
            throw CLIError(error.description)
        }
        print("""
            seeded \(Seeder.grouped(report.users)) users, \(Seeder.grouped(report.markets)) markets \
            (\(report.resolvedMarketIDs.count) resolved), \(Seeder.grouped(report.bets)) bets \
            (\(Seeder.grouped(report.wonBets)) won, \(Seeder.grouped(report.lostBets)) lost, \
            \(Seeder.grouped(report.pendingBets)) pending), \(Seeder.grouped(report.ledgerRows)) ledger rows \
            in \(String(format: "%.2f", report.seconds)) s: \(Seeder.grouped(Int(report.rowsPerSecond))) rows/s
            """)
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the money and counter invariants over the whole database; exit 1 on any violation.",
        discussion: """
            Checks: (1) balance = 10,000 + ledger; (2) market pools = stakes of their bets; (3) every bet \
            debited once and paid as its status says, never twice; (4) each completed mission rewarded \
            exactly once; (5) leaderboard rewards once per period and user, for closed periods; (6) user \
            counters match their bets, and no balance is negative. All read one snapshot.
            """)

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print the report as JSON.") var json = false

    @Option(help: "Violations printed per check; the rest are counted.") var limit = 20

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        let db = PostgresConnection(url: database.databaseURL)
        defer { db.close() }
        let report: Auditor.Report
        do {
            report = try await Auditor(exampleLimit: limit).run(on: db)
        } catch let error as PostgresError {
            if error.code == .connection { throw CLIError("cannot reach PostgreSQL: \(error.message)") }
            if error.sqlState == "42P01" || error.sqlState == "42703" {
                throw CLIError("\(error.message); is the database migrated? Run `thepred migrate`")
            }
            throw CLIError(error.message)
        }
        if json {
            try printJSON(report)
        } else {
            for finding in report.findings {
                let verdict = finding.violations == 0 ? "ok" : "\(Seeder.grouped(finding.violations)) violations"
                print("\(finding.number). \(finding.title): \(verdict)")
                for line in finding.examples { print("   \(line)") }
                let unlisted = finding.violations - finding.examples.count
                if unlisted > 0 { print("   ... and \(Seeder.grouped(unlisted)) more") }
            }
            print("""
                audit: \(report.findings.count) checks, \(Seeder.grouped(report.violations)) violations over \
                \(Seeder.grouped(report.users)) users, \(Seeder.grouped(report.bets)) bets \
                (\(String(format: "%.2f", report.seconds)) s)
                """)
        }
        if !report.isClean { throw ExitCode.failure }
    }
}
