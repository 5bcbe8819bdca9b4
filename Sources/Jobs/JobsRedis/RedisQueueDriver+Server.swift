import Foundation

extension RedisQueueDriver {
    /// The oldest Redis the scripts run on: they use `SET ... NX GET` and XAUTOCLAIM-era stream
    /// semantics (deleted entries leave the pending list when claimed).
    public static let minimumServerVersion = (7, 0)

    /// Fails with a clear error unless the server is Redis 7.0 or newer. Checked once per driver.
    public func checkServerVersion() async throws {
        if serverChecked.withLock({ $0 }) { return }
        let info = try await connection.send("INFO", "server").string ?? ""
        try Self.checkVersion(info: info)
        serverChecked.withLock { $0 = true }
    }

    /// Reads `redis_version` out of `INFO server` and refuses one older than the minimum.
    static func checkVersion(info: String) throws {
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("redis_version:") }
        guard let line else {
            throw RedisError(code: .protocolError, message: "the server did not say its redis_version; Redis 7.0 or newer is required")
        }
        let version = line.dropFirst("redis_version:".count).trimmingCharacters(in: .whitespaces)
        let parts = version.split(separator: ".").map { Int($0) ?? 0 }
        let (major, minor) = (parts.first ?? 0, parts.count > 1 ? parts[1] : 0)
        guard (major, minor) >= minimumServerVersion else {
            throw RedisError(
                code: .unsupportedServer,
                message: "Redis \(version) is too old: ThePred Jobs needs Redis 7.0 or newer (SET NX GET, XAUTOCLAIM)")
        }
    }
}

extension RedisQueueDriver {
    /// `used_memory` and `maxmemory` (0 when unlimited) from `INFO memory`, for the memory alert.
    public func serverMemory() async throws -> (used: Int64, max: Int64) {
        let info = try await connection.send("INFO", "memory").string ?? ""
        func field(_ name: String) -> Int64 {
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") }
            return line.flatMap { Int64($0.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)) } ?? 0
        }
        return (field("used_memory"), field("maxmemory"))
    }
}
