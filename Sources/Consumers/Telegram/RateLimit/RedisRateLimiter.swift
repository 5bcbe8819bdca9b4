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

    public func reserve(_ lanes: [RateLane], horizon: Duration, share: RateShare?) async throws -> RateReservation {
        let laneKeys = lanes.map { keys.rateLane(name, $0.name) }
        let reply: RESPValue
        if let share, let sharedIndex = lanes.firstIndex(where: { $0.name == share.lane }) {
            var args: [any RESPArgument] = [
                horizon.microseconds, share.ahead.microseconds, share.activeWindow.microseconds, String(share.priorityShare),
                share.className, sharedIndex + 1, lanes.count,
            ]
            args += lanes.map { $0.spacing.microseconds }
            for (className, weight) in share.weights.sorted(by: { $0.key < $1.key }) { args += [className, weight] as [any RESPArgument] }
            reply = try await connection.evaluate(
                Self.reserveShared, keys: [keys.ratePause(name), keys.rateClasses(name, share.lane)] + laneKeys, args: args)
        } else {
            let args: [any RESPArgument] = [horizon.microseconds] + lanes.map { $0.spacing.microseconds }
            reply = try await connection.evaluate(Self.reserve, keys: [keys.ratePause(name)] + laneKeys, args: args)
        }
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

    static let reserveShared = RedisScript(
        name: "rate-reserve-shared",
        source: """
            -- Reserve as rate-reserve does, and share one lane between classes of traffic.
            -- KEYS[1] pause key; KEYS[2] the shared lane's class hash (fields v:<class> virtual time,
            -- seen:<class> last request in µs, next:<class> the priority class's next free time in µs,
            -- last: p when the priority class took the lane's last slot, w when a weighted class did);
            -- KEYS[3..2+L] lane keys
            -- ARGV[1] horizon (µs); ARGV[2] ahead (µs): the furthest a weighted class may hold a slot;
            -- ARGV[3] active window (µs); ARGV[4] priority share (0 < s <= 1); ARGV[5] the asking class;
            -- ARGV[6] the shared lane's index among the lanes (1-based); ARGV[7] L, the number of lanes;
            -- ARGV[8..7+L] each lane's spacing (µs); then pairs: a weighted class's name, its weight.
            -- Weighted classes take turns by virtual time (start-time fair queuing): each grant adds
            -- 1/weight to the class's v, and a class may take the next slot only while its v is not
            -- above any other active class's. A class with no weight has priority, paced at shared
            -- spacing / priority share while a weighted class is active.
            -- Returns {1, wait µs} when a slot is held, {0, wait µs} when not.
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
            local paused = redis.call('PTTL', KEYS[1])
            if paused > 0 then return {0, paused * 1000} end
            local nl = tonumber(ARGV[7])
            local sharedIndex = tonumber(ARGV[6])
            local slot = now
            -- own: the earliest slot its other lanes (its chat, its group) allow.
            local own = now
            for i = 1, nl do
              local free = tonumber(redis.call('GET', KEYS[2 + i]) or '0')
              if free > slot then slot = free end
              if i ~= sharedIndex and free > own then own = free end
            end
            local class = ARGV[5]
            local window = tonumber(ARGV[3])
            local shared = tonumber(ARGV[7 + sharedIndex])
            local weight = nil
            for j = 8 + nl, #ARGV, 2 do
              if ARGV[j] == class then weight = tonumber(ARGV[j + 1]) end
            end
            local limit = tonumber(ARGV[1])
            local ahead = tonumber(ARGV[2])
            -- Held up by its own chat or group lane, a weighted class is not waiting for the shared
            -- lane: refused before it counts as active, so it cannot hold the others back. Held up
            -- by the shared lane itself, it is waiting for it, and counts.
            if weight and own - now > math.min(limit, ahead) then return {0, slot - now} end
            local wasActive = false
            if weight then
              local before = tonumber(redis.call('HGET', KEYS[2], 'seen:' .. class) or '0')
              wasActive = now - before <= window
              redis.call('HSET', KEYS[2], 'seen:' .. class, string.format('%.0f', now))
            end
            local others = nil
            local lowest = nil
            local total = 0
            for j = 8 + nl, #ARGV, 2 do
              local name = ARGV[j]
              local seen = tonumber(redis.call('HGET', KEYS[2], 'seen:' .. name) or '0')
              if now - seen <= window then
                total = total + tonumber(ARGV[j + 1])
                local v = tonumber(redis.call('HGET', KEYS[2], 'v:' .. name) or '0')
                if lowest == nil or v < lowest then lowest = v end
                if name ~= class and (others == nil or v < others) then others = v end
              end
            end
            redis.call('PEXPIRE', KEYS[2], 3600000)
            local v = 0
            if weight then
              limit = math.min(limit, ahead)
              -- Behind a slot the priority class took (it may book up to twice `ahead`), a weighted
              -- class may book the next one, so a priority backlog cannot keep it out for good.
              if redis.call('HGET', KEYS[2], 'last') == 'p' then limit = math.min(tonumber(ARGV[1]), 2 * ahead + shared) end
              v = tonumber(redis.call('HGET', KEYS[2], 'v:' .. class) or '0')
              -- Coming back after a pause, a class starts level with the others, with no credit
              -- and no debt; a class that kept asking keeps its place.
              -- The lift is saved at once: a refusal below must not leave the class active at its old,
              -- low v, where it would win every turn and lock the others out.
              if not wasActive and others ~= nil and others > v then
                v = others
                redis.call('HSET', KEYS[2], 'v:' .. class, string.format('%.6f', v))
              end
              -- Not its turn: the others catch up at their share of the lane, (v - others) * total slots
              -- away; asked again within half the active window, so the class keeps counting as active.
              if others ~= nil and v > others then return {0, math.min(window / 2, math.max(shared, (v - others) * total * shared))} end
            else
              -- While a weighted class waits, priority holds slots at most twice `ahead` away: the
              -- weighted classes hold the lane up to `ahead`, so its next slot can be that far off.
              if lowest ~= nil then limit = math.min(limit, 2 * ahead) end
              local classNext = tonumber(redis.call('HGET', KEYS[2], 'next:' .. class) or '0')
              if classNext > slot then slot = classNext end
            end
            if slot - now > limit then return {0, slot - now} end
            for i = 1, nl do
              local nextFree = slot + tonumber(ARGV[7 + i])
              redis.call('SET', KEYS[2 + i], string.format('%.0f', nextFree), 'PX', math.ceil((nextFree - now) / 1000) + 1000)
            end
            if weight then
              redis.call('HSET', KEYS[2], 'v:' .. class, string.format('%.6f', v + 1 / weight), 'last', 'w')
            else
              redis.call('HSET', KEYS[2], 'last', 'p')
              local spacing = shared
              if lowest ~= nil then spacing = shared / tonumber(ARGV[4]) end
              redis.call('HSET', KEYS[2], 'next:' .. class, string.format('%.0f', slot + spacing))
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
