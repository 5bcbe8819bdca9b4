import ArgumentParser
import Foundation
import Postgres

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply the SQL migrations of schemas/sql that the database lacks, once each.",
        discussion: "Refuses a database that has a migration this build does not know, or whose applied file changed.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Folder of NNNN_name.sql files. Env: MIGRATIONS_DIR. Default: schemas/sql of this source tree.")
    var migrations: String = ProcessInfo.processInfo.environment["MIGRATIONS_DIR"] ?? Migrator.defaultDirectory.path

    func run() async throws {
        let migrator = try Migrator(directory: URL(fileURLWithPath: migrations))
        let db = PostgresConnection(url: database.databaseURL)
        defer { db.close() }
        let applied: [Migrator.Migration]
        do {
            applied = try await migrator.migrate(db)
        } catch let error as PostgresError {
            throw CLIError(error.code == .connection ? "cannot reach PostgreSQL: \(error.message)" : error.message)
        }
        if applied.isEmpty {
            print("up to date: \(migrator.migrations.count) migrations applied")
        } else {
            for m in applied { print("applied \(String(format: "%04d", m.version))_\(m.name)") }
        }
    }
}
