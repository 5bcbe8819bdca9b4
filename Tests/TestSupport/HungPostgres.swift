import Foundation
import Synchronization

/// A PostgreSQL server that is paused or blackholed mid-call: it accepts connections, finishes the
/// startup (with a cancel key) and answers `SET` statements, then never answers another statement
/// nor a cancel request. `stop` closes every socket, which ends what waits on it.
public final class HungPostgres: Sendable {
    public let port: Int
    private let listener: Int32
    private struct State {
        var sockets: [Int32] = []
        var stopped = false
        var calls = 0
        var cancels = 0
    }
    private let state = Mutex(State())

    /// A URL for `PostgresConnection`.
    public var url: String { "postgres://hung@127.0.0.1:\(port)/hung?sslmode=disable&gssencmode=disable" }
    /// Statements received and left unanswered.
    public var calls: Int { state.withLock { $0.calls } }
    /// Cancel requests received (and left unanswered).
    public var cancels: Int { state.withLock { $0.cancels } }

    public init() throws {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let fd = listener
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound, listen(fd, 64) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { return }
                let open = state.withLock { s in
                    if !s.stopped { s.sockets.append(client) }
                    return !s.stopped
                }
                guard open else { return _ = close(client) }
                Thread.detachNewThread { [self] in serve(client) }
            }
        }
    }

    public func stop() {
        let sockets = state.withLock { s in
            s.stopped = true
            defer { s.sockets = [] }
            return s.sockets
        }
        // shutdown wakes the threads blocked in accept and read; close alone does not.
        for fd in sockets + [listener] { _ = shutdown(fd, Int32(SHUT_RDWR)) }
        for fd in sockets + [listener] { _ = close(fd) }
    }

    deinit { stop() }

    private func serve(_ fd: Int32) {
        // Startup: length, then a code; SSL and GSS requests are refused with 'N'.
        while let length = readInt(fd), let code = readInt(fd) {
            guard read(fd, count: Int(length) - 8) != nil else { return }
            switch code {
            case 80_877_103, 80_877_104: _ = write(fd, [UInt8(ascii: "N")])
            case 80_877_102:
                state.withLock { $0.cancels += 1 }
                return  // never answered: the socket stays open until `stop`
            default:
                var reply: [UInt8] = [UInt8(ascii: "R")] + int(8) + int(0)
                reply += [UInt8(ascii: "K")] + int(12) + int(4242) + int(7)
                reply += [UInt8(ascii: "Z")] + int(5) + [UInt8(ascii: "I")]
                _ = write(fd, reply)
                statements(fd)
                return
            }
        }
    }

    private func statements(_ fd: Int32) {
        while let type = read(fd, count: 1), let length = readInt(fd), let body = read(fd, count: Int(length) - 4) {
            if type[0] == UInt8(ascii: "Q"), body.starts(with: Array("SET".utf8)) {
                let tag = Array("SET".utf8) + [0]
                _ = write(fd, [UInt8(ascii: "C")] + int(Int32(4 + tag.count)) + tag + [UInt8(ascii: "Z")] + int(5) + [UInt8(ascii: "I")])
            } else if type[0] == UInt8(ascii: "Q") || type[0] == UInt8(ascii: "S") {
                // A simple query, or the Sync that ends an extended one: a call now waiting for ever.
                state.withLock { $0.calls += 1 }
            }
        }
    }

    private func int(_ v: Int32) -> [UInt8] { withUnsafeBytes(of: v.bigEndian) { Array($0) } }

    private func readInt(_ fd: Int32) -> Int32? {
        guard let b = read(fd, count: 4) else { return nil }
        return b.withUnsafeBytes { Int32(bigEndian: $0.loadUnaligned(as: Int32.self)) }
    }

    private func read(_ fd: Int32, count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + got, count - got) }
            if n <= 0 { return nil }
            got += n
        }
        return buffer
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress!, bytes.count) == bytes.count }
    }
}
