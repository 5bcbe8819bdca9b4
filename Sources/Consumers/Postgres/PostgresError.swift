import CLibpq
import Jobs
import Foundation

/// An error from PostgreSQL or from the connection to it, with an opaque code.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: String, Sendable { case server, connection, closed, decoding }
        let value: Value
        public static let server = Code(value: .server)
        public static let connection = Code(value: .connection)
        public static let closed = Code(value: .closed)
        public static let decoding = Code(value: .decoding)
        public var description: String { value.rawValue }
    }

    public let code: Code
    /// The server's message, such as `duplicate key value violates unique constraint "..."`.
    public let message: String
    /// The five-character SQLSTATE for server errors, such as `23505`.
    public let sqlState: String?

    public var description: String {
        switch code.value {
        case .server: return "PostgreSQL error \(sqlState ?? "?"): \(message)"
        case .connection: return "cannot reach PostgreSQL: \(message)"
        case .closed: return "PostgreSQL connection closed"
        case .decoding: return "unexpected PostgreSQL result: \(message)"
        }
    }
}
