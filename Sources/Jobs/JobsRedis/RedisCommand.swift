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
