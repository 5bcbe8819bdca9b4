/// The Lua scripts of the Redis-streams driver. Each moves a job between structures atomically,
/// so a crash between two commands can neither lose nor double a job.
enum RedisScripts {
    static let enqueue = RedisScript(
        name: "enqueue",
        source: """
            -- Enqueue a batch of jobs: ready ones into the stream, future ones into the delayed set.
            -- KEYS[1] stream, KEYS[2] delayed zset, KEYS[3] delayed jobs hash
            -- ARGV[1] job key prefix, ARGV[2] idempotency key prefix, ARGV[3] idempotency retention (ms),
            -- ARGV[4] now (ms); then per job: job id, idempotency key or '', fingerprint or '', due (ms,
            -- 0 = now), kind, owner or '', field count n, and n stream field names and values alternating.
            -- Returns per job its id, or, when the idempotency key was seen, '=' and the first job's id
            -- ('!' instead of '=' when both jobs have fingerprints and they differ).
            -- The key holds the job id, then a space and the fingerprint if there is one.
            -- The status hash keeps kind and owner, so both are known after the entry is gone.
            local out = {}
            local now = tonumber(ARGV[4])
            local i = 5
            while i <= #ARGV do
              local id, idem, fp, due, kind, owner =
                ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
              local n = tonumber(ARGV[i + 6])
              local first = i + 7
              i = first + n
              local seen = false
              if idem ~= '' then
                local value = id
                if fp ~= '' then value = id .. ' ' .. fp end
                seen = redis.call('SET', ARGV[2] .. idem, value, 'NX', 'GET', 'PX', ARGV[3])
              end
              if seen then
                local space = string.find(seen, ' ', 1, true)
                if space then
                  local sid, sfp = string.sub(seen, 1, space - 1), string.sub(seen, space + 1)
                  out[#out + 1] = ((fp ~= '' and fp ~= sfp) and '!' or '=') .. sid
                else
                  out[#out + 1] = '=' .. seen
                end
              else
                local status
                if due > now then
                  redis.call('ZADD', KEYS[2], due, id)
                  redis.call('HSET', KEYS[3], id, cjson.encode({unpack(ARGV, first, i - 1)}))
                  status = {'status', 'scheduled', 'due', due, 'updated_at', now, 'kind', kind}
                else
                  -- unpack of an ARGV range: no per-job table on the hot path.
                  local sid = redis.call('XADD', KEYS[1], '*', unpack(ARGV, first, i - 1))
                  status = {'status', 'queued', 'sid', sid, 'kind', kind}
                end
                if owner ~= '' then
                  status[#status + 1] = 'owner'
                  status[#status + 1] = owner
                end
                redis.call('HSET', ARGV[1] .. id, unpack(status))
                out[#out + 1] = id
              end
            end
            return out
            """)

    static let ack = RedisScript(
        name: "ack",
        source: """
            -- Ack and delete finished entries (so the stream stays small) and record their success.
            -- KEYS[1] stream, KEYS[2] rate bucket counter
            -- ARGV[1] group, ARGV[2] job key prefix, ARGV[3] status retention (ms; 0 deletes the record),
            -- ARGV[4] now (ms), ARGV[5] rate bucket ttl (ms), ARGV[6] consumer, ARGV[7] and ARGV[8] the
            -- smallest and largest entry id of the batch, ARGV[9] most pending entries to read; then
            -- pairs of entry id and job id.
            -- Returns the number of entries acked. An entry that is no longer this consumer's (another
            -- consumer took it over) is left alone, so a late success cannot settle someone else's run.
            -- Ownership is read with one XPENDING over the batch's id range, filtered to the consumer;
            -- an entry not found there (the read was cut at ARGV[9]) is checked on its own.
            local owned = {}
            for _, p in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[7], ARGV[8], ARGV[9], ARGV[6])) do
              owned[p[1]] = true
            end
            local ids = {}
            local keep = tonumber(ARGV[3])
            local acked = 0
            for i = 10, #ARGV, 2 do
              local mine = owned[ARGV[i]]
              if not mine then mine = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1, ARGV[6])[1] ~= nil end
              if mine and redis.call('XACK', KEYS[1], ARGV[1], ARGV[i]) == 1 then
                acked = acked + 1
                ids[acked] = ARGV[i]
                local key = ARGV[2] .. ARGV[i + 1]
                if keep > 0 then
                  redis.call('HSET', key, 'status', 'succeeded', 'updated_at', ARGV[4])
                  redis.call('PEXPIRE', key, keep)
                else
                  redis.call('DEL', key)
                end
              end
            end
            if acked == 0 then return 0 end
            redis.call('XDEL', KEYS[1], unpack(ids))
            redis.call('INCRBY', KEYS[2], acked)
            redis.call('PEXPIRE', KEYS[2], ARGV[5])
            return acked
            """)

    static let reject = RedisScript(
        name: "reject",
        source: """
            -- Ack an entry whose job ended in an expected refusal, and record it as rejected with the reason.
            -- KEYS[1] stream, KEYS[2] job status hash, KEYS[3] rate bucket counter
            -- ARGV[1] group, ARGV[2] consumer, ARGV[3] entry id, ARGV[4] now (ms), ARGV[5] reason,
            -- ARGV[6] status retention (ms; 0 deletes the record), ARGV[7] rate bucket ttl (ms)
            -- Returns 1, or 0 when the entry is no longer this consumer's.
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1, ARGV[2])
            if not p[1] then return 0 end
            redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
            redis.call('XDEL', KEYS[1], ARGV[3])
            if tonumber(ARGV[6]) > 0 then
              redis.call('HSET', KEYS[2], 'status', 'rejected', 'error', ARGV[5], 'updated_at', ARGV[4])
              redis.call('PEXPIRE', KEYS[2], ARGV[6])
            else
              redis.call('DEL', KEYS[2])
            end
            redis.call('INCR', KEYS[3])
            redis.call('PEXPIRE', KEYS[3], ARGV[7])
            return 1
            """)

    static let reschedule = RedisScript(
        name: "reschedule",
        source: """
            -- Ack an entry and put its job back in the delayed set: a retry or a snooze.
            -- KEYS[1] stream, KEYS[2] delayed zset, KEYS[3] delayed jobs hash, KEYS[4] job status hash
            -- ARGV[1] group, ARGV[2] entry id, ARGV[3] job id, ARGV[4] due (ms), ARGV[5] status
            -- ('retrying' or 'scheduled'), ARGV[6] now (ms), ARGV[7] last error, ARGV[8] next attempt,
            -- ARGV[9] consumer; ARGV[10] '1' when a forgotten job may be made again (status records
            -- are kept, so "no record" means forgotten, not finished); ARGV[11..] stream field names
            -- and values of the next run.
            -- Returns 1; 0 when the entry is no longer this consumer's: someone else runs or settled it;
            -- 2 when Redis had forgotten the job (no consumer holds it, and it has no status record):
            -- its writes were lost with a Redis that died before they reached its AOF. Made again
            -- from this run's fields, so it is not lost (issue 26).
            local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1, ARGV[9])
            local made = false
            if not p[1] then
              if ARGV[10] ~= '1' then return 0 end
              if redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)[1] or redis.call('EXISTS', KEYS[4]) == 1 then
                return 0
              end
              made = true
            end
            local fields = {}
            for i = 11, #ARGV do fields[#fields + 1] = ARGV[i] end
            redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
            redis.call('HSET', KEYS[3], ARGV[3], cjson.encode(fields))
            redis.call('HSET', KEYS[4], 'status', ARGV[5], 'due', ARGV[4], 'updated_at', ARGV[6],
              'error', ARGV[7], 'attempt', ARGV[8])
            if made then return 2 end
            redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
            redis.call('XDEL', KEYS[1], ARGV[2])
            return 1
            """)

    static let promote = RedisScript(
        name: "promote",
        source: """
            -- Move due delayed jobs into the stream, oldest due first.
            -- KEYS[1] stream, KEYS[2] delayed zset, KEYS[3] delayed jobs hash
            -- ARGV[1] now (ms), ARGV[2] limit, ARGV[3] job key prefix
            -- Returns {promoted count, due time of the next delayed job or false}.
            local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
            for _, id in ipairs(ids) do
              local encoded = redis.call('HGET', KEYS[3], id)
              if encoded then
                local sid = redis.call('XADD', KEYS[1], '*', unpack(cjson.decode(encoded)))
                redis.call('HSET', ARGV[3] .. id, 'status', 'queued', 'sid', sid, 'updated_at', ARGV[1])
                redis.call('HDEL', KEYS[3], id)
              end
              redis.call('ZREM', KEYS[2], id)
            end
            local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
            return {#ids, nxt[2] or false}
            """)

    static let reclaim = RedisScript(
        name: "reclaim",
        source: deadLetterLua + """
            -- Take over entries idle past their owner's lease; bury those delivered too often.
            -- KEYS[1] stream, KEYS[2] dead-letter stream, KEYS[3] leases hash (consumer -> ms),
            -- KEYS[4] dropped dead letters counter
            -- ARGV[1] group, ARGV[2] consumer, ARGV[3] lease (ms) for owners with none on record,
            -- ARGV[4] count, ARGV[5] max deliveries, ARGV[6] now (ms), ARGV[7] job key prefix,
            -- ARGV[8] dead status retention (ms), ARGV[9] dead-letter cap (0: none)
            -- Returns {taken, poisoned}: taken is a list of {entry id, deliveries, fields}; poisoned
            -- a list of {entry id, deliveries, fields} just buried as poison.
            -- The lease belongs to the job's owner, not to the reclaimer: a worker started with a
            -- shorter visibility timeout does not take live jobs from the rest. At most 100 XPENDING
            -- pages of 100 are read, a bound on how long one call can hold Redis.
            local want = tonumber(ARGV[4])
            if want < 1 then return {{}, {}} end
            local default = tonumber(ARGV[3])
            local leases = {}
            local min_lease = default
            local flat = redis.call('HGETALL', KEYS[3])
            for i = 1, #flat, 2 do
              local v = tonumber(flat[i + 1])
              if v then
                leases[flat[i]] = v
                if v < min_lease then min_lease = v end
              end
            end
            local picked = {}
            local start = '-'
            for _ = 1, 100 do
              local page = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', min_lease, start, '+', 100)
              for _, p in ipairs(page) do
                if #picked < want and p[3] >= (leases[p[2]] or default) then picked[#picked + 1] = p[1] end
              end
              if #page < 100 or #picked >= want then break end
              start = '(' .. page[#page][1]
            end
            local taken, poisoned = {}, {}
            local limit = tonumber(ARGV[5])
            for _, id in ipairs(picked) do
              local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)
              local entry = claimed[1]
              if not entry or not entry[2] then
                -- Deleted from the stream while pending: nothing is left to run.
                redis.call('XACK', KEYS[1], ARGV[1], id)
              else
                local fields = entry[2]
                local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
                local n = (p[1] and p[1][4]) or 1
                if n > limit then
                  local msg = 'delivered ' .. n .. ' times without finishing'
                  local dead = {'dead_reason', 'poison', 'dead_message', msg, 'failed_at', ARGV[6]}
                  local jid = nil
                  -- Keep at most 256 fields, so unpack stays far below Lua's limit whatever the entry holds.
                  local kept = math.min(#fields, 512)
                  for i = 1, kept, 2 do
                    dead[#dead + 1] = fields[i]
                    dead[#dead + 1] = fields[i + 1]
                    if fields[i] == 'id' then jid = fields[i + 1] end
                  end
                  if kept < #fields then
                    dead[#dead + 1] = 'fields_dropped'
                    dead[#dead + 1] = tostring((#fields - kept) / 2)
                  end
                  local did = add_dead(KEYS[2], KEYS[4], ARGV[9], dead)
                  redis.call('XACK', KEYS[1], ARGV[1], id)
                  redis.call('XDEL', KEYS[1], id)
                  if jid then
                    local key = ARGV[7] .. jid
                    redis.call('HSET', key, 'status', 'dead', 'dead_id', did, 'dead_reason', 'poison', 'error', msg, 'updated_at', ARGV[6])
                    redis.call('PEXPIRE', key, ARGV[8])
                  end
                  poisoned[#poisoned + 1] = {id, n, {unpack(dead, 7, math.min(#dead, 7 + 511))}}
                else
                  taken[#taken + 1] = {id, n, fields}
                end
              end
            end
            return {taken, poisoned}
            """)

    static let renew = RedisScript(
        name: "renew",
        source: """
            -- Reset the idle time of entries this consumer still owns, so they are not reclaimed.
            -- KEYS[1] stream
            -- ARGV[1] group, ARGV[2] consumer; ARGV[3..] entry ids.
            -- Returns how many were renewed; entries another consumer took over are left alone.
            local mine = {}
            for i = 3, #ARGV do
              local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
              if p[1] and p[1][2] == ARGV[2] then mine[#mine + 1] = ARGV[i] end
            end
            if #mine == 0 then return 0 end
            -- unpack must be the last argument, or Lua keeps only its first value.
            local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
            for _, id in ipairs(mine) do args[#args + 1] = id end
            args[#args + 1] = 'JUSTID'
            redis.call(unpack(args))
            return #mine
            """)

    static let cancel = RedisScript(
        name: "cancel",
        source: """
            -- Cancel a job that has not started: drop it from the delayed set, or from the stream if
            -- no consumer has read it yet.
            -- KEYS[1] stream, KEYS[2] delayed zset, KEYS[3] delayed jobs hash, KEYS[4] job status hash
            -- ARGV[1] group, ARGV[2] job id, ARGV[3] now (ms), ARGV[4] status retention (ms)
            -- Returns 'ok' when cancelled now, 'missing', or the status that forbids it.
            local function done()
              redis.call('HSET', KEYS[4], 'status', 'cancelled', 'updated_at', ARGV[3])
              redis.call('PEXPIRE', KEYS[4], ARGV[4])
              return 'ok'
            end
            local status = redis.call('HGET', KEYS[4], 'status')
            if not status then return 'missing' end
            if status == 'scheduled' or status == 'retrying' then
              if redis.call('ZREM', KEYS[2], ARGV[2]) == 1 then
                redis.call('HDEL', KEYS[3], ARGV[2])
                return done()
              end
              return status
            end
            if status == 'queued' then
              local sid = redis.call('HGET', KEYS[4], 'sid')
              local p = redis.call('XPENDING', KEYS[1], ARGV[1], sid, sid, 1)
              if p[1] then return 'running' end
              if redis.call('XDEL', KEYS[1], sid) == 1 then return done() end
              return 'running'
            end
            return status
            """)

    static let redrive = RedisScript(
        name: "redrive",
        source: """
            -- Move one dead letter back into the stream as a fresh job.
            -- KEYS[1] dead-letter stream, KEYS[2] stream, KEYS[3] job status hash
            -- ARGV[1] dead-letter id, ARGV[2] now (ms), ARGV[3] redrive count; ARGV[4..] the new
            -- stream field names and values.
            -- Returns the new stream id, or false when the dead letter is gone (redriven by someone else).
            if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return false end
            local fields = {}
            for i = 4, #ARGV do fields[#fields + 1] = ARGV[i] end
            local sid = redis.call('XADD', KEYS[2], '*', unpack(fields))
            redis.call('HSET', KEYS[3], 'status', 'queued', 'sid', sid, 'updated_at', ARGV[2],
              'redriven_at', ARGV[2], 'redrives', ARGV[3], 'attempt', 1)
            redis.call('PERSIST', KEYS[3])
            return sid
            """)
}
