import ArgumentParser
import Foundation
import OperatorTools
import Postgres

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
            print(
                """
                audit: \(report.findings.count) checks, \(Seeder.grouped(report.violations)) violations over \
                \(Seeder.grouped(report.users)) users, \(Seeder.grouped(report.bets)) bets \
                (\(String(format: "%.2f", report.seconds)) s)
                """)
        }
        if !report.isClean { throw ExitCode.failure }
    }
}
