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
