-- The App's GitHub budget, one decision at a time (github-budget.ts says what each part means).
--
-- KEYS: 1 the endpoint's points bucket (hash t, ts), 2 its flights (hash id -> "kind|slot|cost"),
--       3 its flights' lapse times (sorted set), 4 the scope's primary window (hash limit,
--       remaining, reset), 5 the App's "blocked until" (string, ms)
-- ARGV: 1 op (admit, peek, cancel, finish, observe), 2 cost (points), 3 capacity (points),
--       4 refill (points per ms), 5 longest wait (ms), 6 flight id or '', 7 how long a ticket
--       is kept after its slot (ms), 8 how long a claimed flight is kept after its slot (ms),
--       9 primary limit per window (until GitHub says), 10 primary window (ms),
--       observe only: 11 remaining, 12 reset (ms since the epoch), 13 limit, 14 block for (ms)
-- Returns {kind, ms}: go (wait ms, then call), ticket (a slot in ms is kept for this flight),
-- later (nothing kept; ms until a call could go), join (another caller holds the flight), ok.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local op = ARGV[1]
local cost = tonumber(ARGV[2])
local capacity = tonumber(ARGV[3])
local rate = tonumber(ARGV[4])
local max_wait = tonumber(ARGV[5])
local flight = ARGV[6]

local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
if now > ts then tokens = math.min(capacity, tokens + (now - ts) * rate) end

local function parse(record)
  local kind, slot, points = string.match(record, '^(%a+)|([%d.e+]+)|([%d.e+]+)$')
  return kind, tonumber(slot), tonumber(points)
end

-- Tickets nobody came back for give their points back: a caller that gave up wastes nothing.
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(lapsed) do
  local record = redis.call('HGET', KEYS[2], id)
  if record then
    local kind, _, points = parse(record)
    if kind == 'ticket' then tokens = math.min(capacity, tokens + points) end
    redis.call('HDEL', KEYS[2], id)
  end
end
if #lapsed > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) end

local function save()
  redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', tostring(now))
  -- Kept until it would be full again, and a minute more.
  redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 60000)
end

local function keep_flight(kind, slot, points, lapse)
  redis.call('HSET', KEYS[2], flight, kind .. '|' .. string.format('%d', slot) .. '|' .. tostring(points))
  redis.call('ZADD', KEYS[3], lapse, flight)
  local ttl = math.ceil(lapse - now) + 60000
  if redis.call('PTTL', KEYS[2]) < ttl then
    redis.call('PEXPIRE', KEYS[2], ttl)
    redis.call('PEXPIRE', KEYS[3], ttl)
  end
end

if op == 'cancel' or op == 'finish' then
  -- cancel: the caller gave up before its slot, so its points go back. Either way its flight ends.
  if op == 'cancel' then tokens = math.min(capacity, tokens + cost) end
  if flight ~= '' then
    redis.call('HDEL', KEYS[2], flight)
    redis.call('ZREM', KEYS[3], flight)
  end
  save()
  return {'ok', 0}
end

if op == 'peek' then
  -- Is another caller still making this flight's call?
  save()
  local record = redis.call('HGET', KEYS[2], flight)
  if record then
    local kind, slot = parse(record)
    if kind == 'claimed' then return {'join', math.max(0, slot - now)} end
  end
  return {'ok', 0}
end

if op == 'observe' then
  local remaining = tonumber(ARGV[11])
  local reset = tonumber(ARGV[12])
  local limit = tonumber(ARGV[13])
  local block = tonumber(ARGV[14])
  if remaining and reset and limit then
    local known = redis.call('HMGET', KEYS[4], 'remaining', 'reset')
    local known_remaining = tonumber(known[1])
    local known_reset = tonumber(known[2])
    -- The same window: what we reserved since may not show yet, keep the lower count. A new one: GitHub's.
    if known_remaining and known_reset and math.abs(known_reset - reset) < 2000 then
      remaining = math.min(known_remaining, remaining)
    end
    redis.call('HSET', KEYS[4], 'limit', limit, 'remaining', remaining, 'reset', string.format('%d', reset))
    redis.call('PEXPIRE', KEYS[4], math.max(1000, math.ceil(reset - now) + 60000))
  end
  if block and block > 0 then
    local until_ms = now + block
    local current = tonumber(redis.call('GET', KEYS[5]) or '0')
    if until_ms > current then redis.call('SET', KEYS[5], string.format('%d', until_ms), 'PX', math.ceil(block)) end
  end
  save()
  return {'ok', 0}
end

-- admit
local blocked = tonumber(redis.call('GET', KEYS[5]) or '0')
if blocked > now then
  save()
  return {'later', blocked - now}
end

if flight ~= '' then
  local record = redis.call('HGET', KEYS[2], flight)
  if record then
    local kind, slot = parse(record)
    if kind == 'claimed' then
      save()
      return {'join', math.max(0, slot - now)}
    end
    -- A ticket: its holder (or anyone asking for the same thing) takes the slot kept for it.
    if slot - now <= max_wait then
      keep_flight('claimed', slot, cost, slot + tonumber(ARGV[8]))
      save()
      return {'go', math.max(0, slot - now)}
    end
    save()
    return {'later', slot - now}
  end
end

local window = redis.call('HMGET', KEYS[4], 'limit', 'remaining', 'reset')
local limit = tonumber(window[1]) or tonumber(ARGV[9])
local remaining = tonumber(window[2])
local reset = tonumber(window[3]) or 0
if remaining == nil or now >= reset then
  remaining = limit
  reset = now + tonumber(ARGV[10])
end
if remaining < 1 then
  save()
  return {'later', math.max(1, reset - now)}
end

tokens = tokens - cost
local wait = 0
if tokens < 0 then wait = math.ceil(-tokens / rate) end
if wait > max_wait and flight == '' then
  tokens = tokens + cost
  save()
  return {'later', wait}
end
redis.call('HSET', KEYS[4], 'limit', limit, 'remaining', remaining - 1, 'reset', string.format('%d', reset))
redis.call('PEXPIRE', KEYS[4], math.max(1000, math.ceil(reset - now) + 60000))
save()
if flight ~= '' then
  if wait > max_wait then
    keep_flight('ticket', now + wait, cost, now + wait + tonumber(ARGV[7]))
    return {'ticket', wait}
  end
  keep_flight('claimed', now + wait, cost, now + wait + tonumber(ARGV[8]))
end
return {'go', wait}
