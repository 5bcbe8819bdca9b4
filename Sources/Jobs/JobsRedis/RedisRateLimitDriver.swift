import Jobs

/// Request allowances in Redis, one key per subject that expires once its allowance is full
/// again: memory follows the subjects active in the last few seconds, not the requests they send.
public final class RedisRateLimitDriver: RateLimitDriver {
    private let connection: RedisConnection
    private let keys: RedisKeys

    public init(connection: RedisConnection, keys: RedisKeys = RedisKeys()) {
        self.connection = connection
        self.keys = keys
    }

    public func take(_ subject: String, rule: RateRule) async throws -> Duration? {
        let reply = try await connection.evaluate(
            Self.take, keys: [keys.requestRate(subject)], args: [Int(rule.intervalMicros), rule.burst])
        guard let wait = reply.int else { throw RedisError(code: .protocolError, message: "rate-take returned \(reply)") }
        return wait > 0 ? .microseconds(wait) : nil
    }

    static let take = RedisScript(
        name: "rate-take",
        source: """
            -- Takes one request from a subject's allowance (a generic cell rate, on Redis's clock).
            -- KEYS[1] the subject's key: its theoretical arrival time in µs, when the allowance is full again
            -- ARGV[1] µs between two requests at the average rate; ARGV[2] the burst
            -- Returns 0 when the request may go on (and takes its place), else the µs until one may.
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local interval = tonumber(ARGV[1])
            local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
            if arrival < now then arrival = now end
            local allowed_at = arrival + interval - tonumber(ARGV[2]) * interval
            if now < allowed_at then return allowed_at - now end
            local next_arrival = arrival + interval
            redis.call('SET', KEYS[1], string.format('%.0f', next_arrival), 'PX', math.floor((next_arrival - now) / 1000) + 1)
            return 0
            """)
}
