import ArgumentParser
import Foundation
import Jobs
import JobsRedis
import Logging
import Postgres
import ThePredKinds

/// Where PostgreSQL is, for the commands that use the domain database.
struct DatabaseOptions: ParsableArguments {
    static let defaultURL = "postgres://postgres@127.0.0.1:5433/thepred"

    @Option(
        name: .customLong("database-url"), help: "PostgreSQL connection URL. Env: DATABASE_URL. Default: \(DatabaseOptions.defaultURL).")
    var databaseURLOption: String?

    var databaseURL: String { databaseURLOption ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? DatabaseOptions.defaultURL }

    @Option(help: "PostgreSQL connections of a worker, each on a thread of its own. Env: DATABASE_POOL_SIZE.")
    var dbPoolSize: Int = Int(ProcessInfo.processInfo.environment["DATABASE_POOL_SIZE"] ?? "") ?? 4

    @Option(
        help:
            "Seconds one PostgreSQL statement of a worker may run (its statement_timeout), below the 30 s timeout of the shortest job kinds; settlement and leaderboard transactions raise it for themselves. Env: DATABASE_STATEMENT_TIMEOUT."
    )
    var dbStatementTimeout: Int =
        Int(ProcessInfo.processInfo.environment["DATABASE_STATEMENT_TIMEOUT"] ?? "")
        ?? Int(PostgresPool.defaultStatementTimeout.components.seconds)

    func validate() throws {
        guard (1...64).contains(dbPoolSize) else { throw ValidationError("--db-pool-size must be within 1...64") }
        guard (1...25).contains(dbStatementTimeout) else {
            throw ValidationError("--db-statement-timeout must be within 1...25 s: below the 30 s job timeout it guards")
        }
    }

    /// The URL with any password replaced, for messages.
    var redactedURL: String {
        guard let scheme = databaseURL.range(of: "://"),
            let at = databaseURL.range(of: "@", range: scheme.upperBound..<databaseURL.endIndex)
        else { return databaseURL }
        let userinfo = databaseURL[scheme.upperBound..<at.lowerBound]
        guard let colon = userinfo.firstIndex(of: ":") else { return databaseURL }
        return String(databaseURL[..<colon]) + ":***" + String(databaseURL[at.lowerBound...])
    }

    /// A pool that has answered a query, so commands fail with one clear message when PostgreSQL is away.
    /// `jobs` gives its statements the worker's deadline; tools (seed, audit, migrate) run without one.
    func connectedPool(size: Int? = nil, jobs: Bool = false, name: String = "postgres") async throws -> PostgresPool {
        let pool = PostgresPool(
            url: databaseURL, size: size ?? dbPoolSize, name: name, statementTimeout: jobs ? .seconds(dbStatementTimeout) : nil)
        do {
            try await pool.query("SELECT 1")
        } catch {
            pool.close()
            throw CLIError("cannot reach PostgreSQL at \(redactedURL): \(error)")
        }
        return pool
    }
}
