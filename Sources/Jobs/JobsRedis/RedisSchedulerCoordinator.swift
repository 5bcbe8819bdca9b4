import Jobs

/// Leader lock and tick records in Redis.
public struct RedisSchedulerCoordinator: SchedulerCoordinator {
    let connection: RedisConnection
    let keys: RedisKeys

    public init(connection: RedisConnection, keys: RedisKeys) {
        self.connection = connection
        self.keys = keys
    }

    static let lead = RedisScript(
        name: "scheduler-lead",
        source: """
            -- Take the leader lock if free, or renew it for its holder.
            -- KEYS[1] leader lock; ARGV[1] holder, ARGV[2] ttl (ms)
            -- Returns 1 when the holder leads, 0 when someone else does.
            local current = redis.call('GET', KEYS[1])
            if not current then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
              return 1
            end
            if current == ARGV[1] then
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
              return 1
            end
            return 0
            """)

    static let resign = RedisScript(
        name: "scheduler-resign",
        source: """
            -- Release the leader lock if the holder still has it.
            -- KEYS[1] leader lock; ARGV[1] holder
            -- Returns 1 when released.
            if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
            return 0
            """)

    static let recordTick = RedisScript(
        name: "scheduler-record-tick",
        source: """
            -- Record a schedule's last tick, never moving it backwards.
            -- KEYS[1] tick hash; ARGV[1] schedule name, ARGV[2] tick (ms)
            -- Returns 1 when recorded.
            local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '-1')
            if tonumber(ARGV[2]) > current then
              redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
              return 1
            end
            return 0
            """)

    public func lead(holder: String, ttl: Duration) async throws -> Bool {
        try await connection.evaluate(Self.lead, keys: [keys.schedulerLeader], args: [holder, ttl.milliseconds]).int == 1
    }

    public func resign(holder: String) async throws {
        try await connection.evaluate(Self.resign, keys: [keys.schedulerLeader], args: [holder])
    }

    public func lastTick(of schedule: String) async throws -> Int64? {
        try await connection.send("HGET", keys.scheduleTicks, schedule).int
    }

    public func recordTick(_ tick: Int64, of schedule: String) async throws {
        try await connection.evaluate(Self.recordTick, keys: [keys.scheduleTicks], args: [schedule, tick])
    }
}
