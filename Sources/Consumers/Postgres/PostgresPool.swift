import Synchronization

/// A fixed set of connections, each on its own thread (DATABASE_URL, DATABASE_POOL_SIZE).
///
/// A call goes to the connection with the fewest calls queued, so a long settlement transaction
/// on one connection does not hold up short statements while another connection is idle.
/// Each connection reconnects on its own after the server restarts.
public final class PostgresPool: PostgresClient {
    private let connections: [PostgresConnection]
    private let load: Mutex<[Int]>

    /// What a worker's statements get by default (`DATABASE_STATEMENT_TIMEOUT`): below the 30 s of
    /// the shortest job kinds that use PostgreSQL, so a stuck statement fails inside its job.
    /// Settlement and leaderboard transactions raise it for themselves with `SET LOCAL`.
    public static let defaultStatementTimeout: Duration = .seconds(20)

    /// - Parameters:
    ///   - url: a libpq connection string or `postgres://` URL.
    ///   - size: connections (threads) to keep; at least 1.
    ///   - statementTimeout: each connection's `statement_timeout`; nil keeps the server's.
    public init(url: String, size: Int = 4, name: String = "postgres", statementTimeout: Duration? = nil) {
        let count = max(1, size)
        connections = (0..<count).map { PostgresConnection(url: url, name: "\(name)-\($0)", statementTimeout: statementTimeout) }
        load = Mutex(Array(repeating: 0, count: count))
    }

    deinit { close() }

    public var size: Int { connections.count }

    public func close() { for c in connections { c.close() } }

    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(sql, parameters) }
    }

    @discardableResult
    public func query(_ statement: PostgresStatement, _ parameters: [PostgresValue] = []) async throws -> PostgresRows {
        try await withConnection { try await $0.query(statement, parameters) }
    }

    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection.Transaction) throws -> T) async throws -> T {
        try await withConnection { try await $0.transaction(body) }
    }

    /// Runs `body` with the least busy connection, for several statements that need one session.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let index = load.withLock { load in
            let i = load.indices.min { load[$0] < load[$1] }!
            load[i] += 1
            return i
        }
        defer { load.withLock { $0[index] -= 1 } }
        return try await body(connections[index])
    }
}
