import JobsRedis

/// Figures and cleanup the benchmarks share.
enum BenchRedis {
    /// CPU seconds redis-server has used so far, user and system.
    static func redisCPU(_ driver: RedisQueueDriver) async throws -> Double {
        let info = try await driver.connection.send("INFO", "cpu").string ?? ""
        return info.split(separator: "\r\n").reduce(0) { sum, line in
            let parts = line.split(separator: ":")
            guard parts.count == 2, parts[0] == "used_cpu_sys" || parts[0] == "used_cpu_user" else { return sum }
            return sum + (Double(parts[1]) ?? 0)
        }
    }

    /// Bytes redis-server has allocated.
    static func redisMemory(_ driver: RedisQueueDriver) async throws -> Int64 {
        let info = try await driver.connection.send("INFO", "memory").string ?? ""
        let line = info.split(separator: "\r\n").first { $0.hasPrefix("used_memory:") }
        return line.flatMap { Int64($0.dropFirst("used_memory:".count)) } ?? 0
    }

    /// Removes every key of the benchmark's prefix.
    static func deleteKeys(prefix: String, driver: RedisQueueDriver) async throws {
        var cursor = "0"
        repeat {
            let reply = try await driver.connection.send("SCAN", cursor, "MATCH", "\(prefix):*", "COUNT", 10_000)
            guard let parts = reply.array, parts.count == 2 else { break }
            cursor = parts[0].string ?? "0"
            let keys = (parts[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty { try await driver.connection.send(RedisCommand(["UNLINK"] + keys)) }
        } while cursor != "0"
    }
}
