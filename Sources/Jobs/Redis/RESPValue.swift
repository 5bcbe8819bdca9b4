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

/// An argument of a Redis command.
public protocol RESPArgument {
    func appendBytes(to buffer: inout [UInt8])
}

extension String: RESPArgument {
    @inlinable public func appendBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}
extension Substring: RESPArgument {
    @inlinable public func appendBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
}
extension Array: RESPArgument where Element == UInt8 {
    @inlinable public func appendBytes(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
}
extension Int: RESPArgument {
    @inlinable public func appendBytes(to buffer: inout [UInt8]) { String(self).appendBytes(to: &buffer) }
}
extension Int64: RESPArgument {
    @inlinable public func appendBytes(to buffer: inout [UInt8]) { String(self).appendBytes(to: &buffer) }
}

/// A command ready to send: its arguments flattened into one buffer with their lengths.
public struct RedisCommand: Sendable {
    @usableFromInline var bytes: [UInt8]
    @usableFromInline var lengths: [Int]

    public init(_ args: [any RESPArgument]) {
        bytes = []
        lengths = []
        lengths.reserveCapacity(args.count)
        for arg in args { append(arg) }
    }

    public init(_ args: any RESPArgument...) { self.init(args) }

    @inlinable public mutating func append(_ arg: some RESPArgument) {
        let before = bytes.count
        arg.appendBytes(to: &bytes)
        lengths.append(bytes.count - before)
    }

    @inlinable public mutating func append(_ arg: any RESPArgument) {
        let before = bytes.count
        arg.appendBytes(to: &bytes)
        lengths.append(bytes.count - before)
    }

    public var argumentCount: Int { lengths.count }

    /// The command name, for error messages.
    public var name: String {
        guard let first = lengths.first else { return "" }
        return String(decoding: bytes[0..<first], as: UTF8.self)
    }
}
