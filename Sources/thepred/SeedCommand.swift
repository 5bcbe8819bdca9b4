import ArgumentParser
import Foundation
import OperatorTools
import Postgres

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
        print(
            """
            seeded \(Seeder.grouped(report.users)) users, \(Seeder.grouped(report.markets)) markets \
            (\(report.resolvedMarketIDs.count) resolved), \(Seeder.grouped(report.bets)) bets \
            (\(Seeder.grouped(report.wonBets)) won, \(Seeder.grouped(report.lostBets)) lost, \
            \(Seeder.grouped(report.pendingBets)) pending), \(Seeder.grouped(report.ledgerRows)) ledger rows \
            in \(String(format: "%.2f", report.seconds)) s: \(Seeder.grouped(Int(report.rowsPerSecond))) rows/s
            """)
    }
}
