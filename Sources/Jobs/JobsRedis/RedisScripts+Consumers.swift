extension RedisScripts {
    static let unregister = RedisScript(
        name: "unregister",
        source: """
            -- Drop a consumer from the registry, and from the group if it holds nothing. One script, so
            -- no entry can be delivered to it between the check and the delete. Its lease stays while it
            -- holds entries: they are reclaimed by its lease, not by whoever reclaims.
            -- KEYS[1] stream, KEYS[2] consumers zset, KEYS[3] consumer info hash, KEYS[4] leases hash
            -- ARGV[1] group, ARGV[2] consumer
            -- Returns 1 when it also left the group.
            redis.call('ZREM', KEYS[2], ARGV[2])
            redis.call('HDEL', KEYS[3], ARGV[2])
            local held = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
            if #held > 0 then return 0 end
            redis.call('HDEL', KEYS[4], ARGV[2])
            local ok = pcall(redis.call, 'XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
            return ok and 1 or 0
            """)

    static let prune = RedisScript(
        name: "prune",
        source: """
            -- Forget consumers that left without unregistering and hold nothing any more: a worker
            -- SIGKILLed while it held jobs keeps its group entry and its lease until its jobs are
            -- reclaimed, and nobody unregisters it afterwards. Without this the group and the
            -- leases hash grow with every crash.
            -- KEYS[1] stream, KEYS[2] consumers zset, KEYS[3] leases hash
            -- ARGV[1] group, ARGV[2] idle (ms) after which a consumer outside the registry is departed
            -- Returns how many consumers and leases were dropped.
            local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', KEYS[1], ARGV[1])
            if not ok then return 0 end
            local idle = tonumber(ARGV[2])
            local dropped = 0
            local inGroup = {}
            for _, c in ipairs(consumers) do
              local info = {}
              for i = 1, #c, 2 do info[c[i]] = c[i + 1] end
              inGroup[info['name']] = true
              -- Pending 0 checked in this script, so DELCONSUMER can drop no entry; a consumer that
              -- reads again is made anew by XREADGROUP.
              if info['pending'] == 0 and info['idle'] >= idle and not redis.call('ZSCORE', KEYS[2], info['name']) then
                redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
                redis.call('HDEL', KEYS[3], info['name'])
                inGroup[info['name']] = nil
                dropped = dropped + 1
              end
            end
            for _, name in ipairs(redis.call('HKEYS', KEYS[3])) do
              if not inGroup[name] and not redis.call('ZSCORE', KEYS[2], name) then
                redis.call('HDEL', KEYS[3], name)
                dropped = dropped + 1
              end
            end
            return dropped
            """)
}
