import Synchronization

/// What handlers and tools need from PostgreSQL, whether one connection or a pool serves it.
public protocol PostgresClient: Sendable {
    /// Runs one statement with parameters ($1, $2, …) and returns its rows.
    @discardableResult
    func query(_ sql: String, _ parameters: [PostgresValue]) async throws -> PostgresRows
    /// Runs a statement prepared once per connection.
    @discardableResult
    func query(_ statement: PostgresStatement, _ parameters: [PostgresValue]) async throws -> PostgresRows
    /// Runs `body` inside BEGIN … COMMIT, rolling back if it throws.
    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection.Transaction) throws -> T) async throws -> T
}

extension PostgresClient {
    @discardableResult
    public func query(_ sql: String) async throws -> PostgresRows { try await query(sql, []) }

    /// Unprepared, for a client that does not keep statements (a test double).
    @discardableResult
    public func query(_ statement: PostgresStatement, _ parameters: [PostgresValue]) async throws -> PostgresRows {
        try await query(statement.sql, parameters)
    }
}

extension PostgresConnection: PostgresClient {}
