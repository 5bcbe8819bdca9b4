import CLibpq

/// The named prepared statements of one connection, so a statement with parameters is parsed and
/// analysed once per connection instead of on every call (the delivery log's SENT write runs a
/// thousand times a second in the paid lane). Used on the connection's thread only; emptied when
/// the connection is re-established, because the server forgets them with the session.
///
/// A connection pooler in transaction mode would hand these statements
/// to other sessions; connect to PostgreSQL directly or in session mode.
final class PostgresStatementCache {
    /// Statements kept per connection. SQL with values spliced in would otherwise grow the cache
    /// without end; past the cap every statement is deallocated and the cache starts over.
    static let capacity = 256

    private var names: [String: String] = [:]
    private var made = 0

    /// Forgets every statement; for a new connection.
    func reset() { names.removeAll() }

    /// Forgets one statement, such as one whose cached plan the server refused after a migration,
    /// and deallocates it on the server (which fails harmlessly in an aborted transaction).
    func forget(_ sql: String, on conn: OpaquePointer) {
        guard let name = names.removeValue(forKey: sql) else { return }
        PQclear(PQexec(conn, "DEALLOCATE \(name)"))
    }

    /// The name `sql` is prepared under on `conn`, preparing it first if need be.
    func name(for sql: String, parameters: Int32, on conn: OpaquePointer) throws -> String {
        if let name = names[sql] { return name }
        if names.count >= Self.capacity {
            PQclear(PQexec(conn, "DEALLOCATE ALL"))
            names.removeAll()
        }
        made += 1
        let name = "thepred_\(made)"
        guard let result = PQprepare(conn, name, sql, parameters, nil) else {
            throw PostgresError(code: .connection, message: String(cString: PQerrorMessage(conn)), sqlState: nil)
        }
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else { throw PostgresConnection.error(of: result, conn) }
        names[sql] = name
        return name
    }
}
