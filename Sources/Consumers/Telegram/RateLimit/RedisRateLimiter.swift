import JobsRedis

/// The fleet-wide limiter: every worker process on every machine reserves its slots in Redis,
/// by Redis's own clock, so their clocks need not agree.
public final class RedisRateLimiter: SendRateLimiter {
    private let connection: RedisConnection
    private let keys: RedisKeys
    private let name: String

    /// `name` keeps separate accounts (bots) apart.
    public init(connection: RedisConnection, keys: RedisKeys = RedisKeys(), name: String = "telegram") {
        self.connection = connection
        self.keys = keys
        self.name = name
    }

    public func reserve(_ lanes: [RateLane], horizon: Duration) async throws -> RateReservation {
        let laneKeys = lanes.map { keys.rateLane(name, $0.name) }
        let args: [any RESPArgument] = [horizon.microseconds] + lanes.map { $0.spacing.microseconds }
        let reply = try await connection.evaluate(Self.reserve, keys: [keys.ratePause(name)] + laneKeys, args: args)
        guard let parts = reply.array, parts.count == 2, let granted = parts[0].int, let wait = parts[1].int else {
            throw RedisError(code: .protocolError, message: "rate reserve returned \(reply)")
        }
        return RateReservation(granted: granted == 1, wait: .microseconds(max(0, wait)))
    }

    public func pause(for duration: Duration) async throws {
        let millis = max(1, (duration.microseconds + 999) / 1000)
        try await connection.evaluate(Self.pause, keys: [keys.ratePause(name)], args: [millis])
    }

    static let reserve = RedisScript(
        name: "rate-reserve",
        source: """
            -- Reserve the earliest send slot that every lane allows (even spacing, no bursts).
            -- KEYS[1] pause key; KEYS[2..n] lane keys, each holding the lane's next free time (µs)
            -- ARGV[1] horizon (µs); ARGV[2..n] each lane's spacing (µs), in the order of KEYS[2..n]
            -- Returns {1, wait µs}: the slot is held, send after wait.
            --         {0, wait µs}: paused, or the slot is beyond the horizon; nothing held.
            -- Redis's clock, so processes on machines with skewed clocks share one timeline.
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local paused = redis.call('PTTL', KEYS[1])
            if paused > 0 then return {0, paused * 1000} end
            local slot = now
            for i = 2, #KEYS do
              local free = tonumber(redis.call('GET', KEYS[i]) or '0')
              if free > slot then slot = free end
            end
            if slot - now > tonumber(ARGV[1]) then return {0, slot - now} end
            for i = 2, #KEYS do
              local nextFree = slot + tonumber(ARGV[i])
              -- %.0f: tostring would print a 16-digit time in exponent form and lose precision.
              redis.call('SET', KEYS[i], string.format('%.0f', nextFree), 'PX', math.ceil((nextFree - now) / 1000) + 1000)
            end
            return {1, slot - now}
            """)

    static let pause = RedisScript(
        name: "rate-pause",
        source: """
            -- Pause the fleet's sends; extends a pause, never shortens it.
            -- KEYS[1] pause key; ARGV[1] duration (ms)
            if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
              redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
            end
            return 1
            """)
}
