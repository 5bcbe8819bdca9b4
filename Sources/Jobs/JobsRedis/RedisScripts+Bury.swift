// The scripts that write dead letters.
extension RedisScripts {
    /// Lua shared by the scripts that write dead letters: `add_dead(dead stream, dropped counter,
    /// cap, fields)` adds the letter, trims the stream to its cap (0: none) and counts what fell
    /// off; it returns the dead-letter id and how many were dropped.
    static let deadLetterLua = """
        local function add_dead(dead, dropped_key, cap, fields)
          local did = redis.call('XADD', dead, '*', unpack(fields))
          local dropped = 0
          cap = tonumber(cap)
          if cap > 0 then
            local n = redis.call('XLEN', dead)
            if n > cap then
              dropped = n - cap
              redis.call('XTRIM', dead, 'MAXLEN', cap)
              redis.call('INCRBY', dropped_key, dropped)
            end
          end
          return did, dropped
        end
        """

    static let bury = RedisScript(
        name: "bury",
        source: deadLetterLua + """
            -- Add an entry to the dead-letter stream, then ack it (if it came from the stream). The letter
            -- is written first: if anything fails, the entry is still pending and nothing is lost.
            -- KEYS[1] stream, KEYS[2] dead-letter stream, KEYS[3] job status hash, or the stream again
            -- when the job id is unknown (an undecodable entry), KEYS[4] dropped dead letters counter
            -- ARGV[1] group, ARGV[2] entry id or '' for none, ARGV[3] now (ms), ARGV[4] reason,
            -- ARGV[5] message, ARGV[6] status retention (ms), ARGV[7] consumer, ARGV[8] dead-letter cap
            -- (0: none); ARGV[9] '1' when a forgotten job may be buried all the same (as reschedule's
            -- ARGV[10]); ARGV[10..] field names and values to keep (at most a few hundred).
            -- Returns {dead-letter id, dead letters dropped at the cap}, or false when the entry is no
            -- longer this consumer's. A job Redis had forgotten (no consumer holds it, no status
            -- record: writes lost with a Redis that died) is still buried, with a third element 1.
            local made = 0
            if ARGV[2] ~= '' then
              local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1, ARGV[7])
              if not p[1] then
                if KEYS[3] == KEYS[1] or ARGV[9] ~= '1' then return false end
                if redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)[1] or redis.call('EXISTS', KEYS[3]) == 1 then
                  return false
                end
                made = 1
              end
            end
            local fields = {'dead_reason', ARGV[4], 'dead_message', ARGV[5], 'failed_at', ARGV[3]}
            for i = 10, #ARGV do fields[#fields + 1] = ARGV[i] end
            local did, dropped = add_dead(KEYS[2], KEYS[4], ARGV[8], fields)
            if ARGV[2] ~= '' and made == 0 then
              redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
              redis.call('XDEL', KEYS[1], ARGV[2])
            end
            if KEYS[3] ~= KEYS[1] then
              redis.call('HSET', KEYS[3], 'status', 'dead', 'dead_id', did, 'dead_reason', ARGV[4], 'error', ARGV[5], 'updated_at', ARGV[3])
              redis.call('PEXPIRE', KEYS[3], ARGV[6])
            end
            return {did, dropped, made}
            """)
}
