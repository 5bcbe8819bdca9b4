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

    public init(code: Code, message: String, sqlState: String?) {
        self.code = code
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String {
        switch code.value {
        case .server: return "PostgreSQL error \(sqlState ?? "?"): \(message)"
        case .connection: return "cannot reach PostgreSQL: \(message)"
        case .closed: return "PostgreSQL connection closed"
        case .decoding: return "unexpected PostgreSQL result: \(message)"
        }
    }
}

extension PostgresError: OutageError {
    /// Unreachable or lost (class 08), shutting down or starting up (57P01, 57P02, 57P03), or out
    /// of connection slots (53300): what a restart or a failover of the server looks like.
    public var isOutage: Bool {
        switch code.value {
        case .connection: return true
        case .server:
            guard let state = sqlState else { return false }
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
        case .closed, .decoding: return false
        }
    }
}
