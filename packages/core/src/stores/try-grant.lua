-- The grant's check and reservation (see demand.store.ts), with the grant's records: when the
-- launch is granted, the compare-and-set writes given (its record on the launch and its job)
-- are made in the same step, and only if every one of them still applies, so that all land or
-- none does (then the caller records the ordinary way). Without writes, only the reservation.
-- `record_is_at` and `write_record` are versioned-record.store.ts's RECORD_FUNCTIONS, prepended:
-- the two halves of its compare-and-set, so every write is checked before any is made.
--
-- KEYS: demand, covered, granted-launch, granted-token (markers from before grants were per
--       launch), repository owners; then each write's keys
-- ARGV: launch id, now (ms), cover window (ms), demand horizon (ms), marker ttl (s),
--       repository key, cluster user, number of writes; then per write its number of keys and
--       the compare-and-set's 8 arguments
-- Returns: decision, queued, covered, 1 when the writes were made (else 0)
if redis.call('HGET', KEYS[5], ARGV[6]) ~= ARGV[7] then return {'owner-changed', 0, 0, 0} end
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return {'already-granted', 0, 0, 0} end
local now = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. (now - tonumber(ARGV[3])))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[4])))
local queued = redis.call('ZCARD', KEYS[1])
local covered = redis.call('ZCARD', KEYS[2])
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then covered = covered - 1 end
if queued <= covered then return {'no-demand', queued, covered, 0} end
redis.call('ZADD', KEYS[2], now, ARGV[1])
redis.call('SET', KEYS[3], ARGV[1], 'EX', ARGV[5])

local writes = {}
local key_at, arg_at = 6, 9
for _ = 1, tonumber(ARGV[8] or '0') do
  local key_count = tonumber(ARGV[arg_at])
  local write = { keys = {}, args = {} }
  for k = 0, key_count - 1 do write.keys[k + 1] = KEYS[key_at + k] end
  for a = 1, 8 do write.args[a] = ARGV[arg_at + a] end
  key_at, arg_at = key_at + key_count, arg_at + 9
  if not record_is_at(write.keys[1], write.args[1]) then return {'granted', queued, covered, 0} end
  writes[#writes + 1] = write
end
for _, write in ipairs(writes) do write_record(write.keys, write.args) end
return {'granted', queued, covered, #writes > 0 and 1 or 0}
