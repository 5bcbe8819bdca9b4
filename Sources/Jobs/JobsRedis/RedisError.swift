import Jobs

/// An error from Redis or from the connection to it.
///
/// A struct with an opaque code, so new cases do not break callers.
public struct RedisError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        enum Value: Sendable, Hashable { case server, connection, protocolError, closed, badURL, unsupportedServer }
        let value: Value
        public static let server = Code(value: .server)
        public static let connection = Code(value: .connection)
        public static let protocolError = Code(value: .protocolError)
        public static let closed = Code(value: .closed)
        public static let badURL = Code(value: .badURL)
        /// The server is too old for the platform's scripts.
        public static let unsupportedServer = Code(value: .unsupportedServer)
        public var description: String { "\(value)" }
    }

    public let code: Code
    /// For `.server`, Redis's own message, such as "NOSCRIPT No matching script".
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public static func server(_ message: String) -> RedisError { .init(code: .server, message: message) }
    public static func connection(_ message: String) -> RedisError { .init(code: .connection, message: message) }

    /// Redis is there but cannot serve now: loading its data, busy with a script, a replica
    /// without its master, read-only after a failover, out of memory, or a cluster resharding.
    /// Worth retrying shortly, like a connection that is down.
    public var isTemporary: Bool {
        switch code.value {
        case .connection, .closed: return true
        case .server:
            let word = message.prefix { $0 != " " }
            return ["LOADING", "BUSY", "MASTERDOWN", "READONLY", "OOM", "TRYAGAIN", "CLUSTERDOWN"].contains(String(word))
        case .protocolError, .badURL, .unsupportedServer: return false
        }
    }

    public var description: String {
        switch code.value {
        case .server: return "Redis error: \(message)"
        case .connection: return "cannot reach Redis: \(message)"
        case .protocolError: return "unexpected Redis reply: \(message)"
        case .closed: return "Redis connection closed"
        case .badURL: return "bad Redis URL: \(message)"
        case .unsupportedServer: return message
        }
    }
}

extension RedisError: QueueBackendError, OutageError {
    /// A reply the client cannot read counts too: the connection is reset and retried.
    public var isUnavailable: Bool { isTemporary || code == .protocolError }

    public var isOutage: Bool { isTemporary }
}
