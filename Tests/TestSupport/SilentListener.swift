import Foundation
import Jobs
import JobsRedis

/// A TCP socket on 127.0.0.1 that listens and never accepts: the kernel completes connections
/// into its backlog, so a client connects and then hears nothing.
public final class SilentListener: Sendable {
    let fd: Int32
    public let port: Int

    public init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound, listen(fd, 128) == 0 else { throw RedisError.connection("cannot listen: errno \(errno)") }
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    public func close() { _ = Glibc.close(fd) }
}
