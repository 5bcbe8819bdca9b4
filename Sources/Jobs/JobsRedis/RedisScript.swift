import Synchronization

/// A Lua script run with EVALSHA, loaded on first use and again after Redis forgets it.
public final class RedisScript: Sendable {
    public let name: String
    public let source: String
    private let sha = Mutex<String?>(nil)

    public init(name: String, source: String) {
        self.name = name
        self.source = source
    }

    /// The SHA1 Redis knows the script by, loading it when needed.
    func loadedSHA(on connection: RedisConnection, reload: Bool = false) async throws -> String {
        if !reload, let known = sha.withLock({ $0 }) { return known }
        guard let loaded = try await connection.send("SCRIPT", "LOAD", source).string else {
            throw RedisError(code: .protocolError, message: "SCRIPT LOAD returned no sha")
        }
        sha.withLock { $0 = loaded }
        return loaded
    }

    /// The EVALSHA command for these keys and arguments.
    func command(sha: String, keys: [String], args: [any RESPArgument]) -> RedisCommand {
        var command = RedisCommand("EVALSHA", sha, keys.count)
        for key in keys { command.append(key) }
        for arg in args { command.append(arg) }
        return command
    }
}
