/// A reply from Redis, copied out of hiredis so no C type leaves `RedisConnection`.
public enum RESPValue: Sendable, Equatable {
    case null
    /// Bulk and status strings, as raw bytes.
    case bytes([UInt8])
    case integer(Int64)
    case array([RESPValue])
    /// An error reply, with Redis's own message.
    case error(String)

    public var string: String? {
        if case .bytes(let b) = self { return String(decoding: b, as: UTF8.self) }
        if case .integer(let i) = self { return String(i) }
        return nil
    }

    public var int: Int64? {
        switch self {
        case .integer(let i): return i
        case .bytes(let b): return Int64(String(decoding: b, as: UTF8.self))
        default: return nil
        }
    }

    /// The raw bytes of a bulk or status string.
    public var rawBytes: [UInt8]? {
        if case .bytes(let b) = self { return b }
        return nil
    }

    public var array: [RESPValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// Redis answered that it does not know the script (it restarted, or SCRIPT FLUSH ran).
    var isNoScript: Bool {
        if case .error(let message) = self { return message.hasPrefix("NOSCRIPT") }
        return false
    }

    /// Throws Redis's error reply as a `RedisError`, otherwise returns self.
    @discardableResult
    public func throwingError() throws(RedisError) -> RESPValue {
        if case .error(let message) = self { throw RedisError.server(message) }
        return self
    }
}
