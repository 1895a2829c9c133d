/**
 * The HostBudget settle rule in Lua, line for line the rule of src/backends/memory/host-pacing.ts
 * (the contract suite holds both to it). KEYS: one JSON state per host. ARGV: holder, leaseMs,
 * maxConcurrency, minDelayMs, maxBackoffMs, the PACING tuning (backoffStepMs, recoverAfter,
 * slowMarginMs, baseDrift, memoryMs, burstMs), then per host: busy, want, start (0/1), ok, latencyMs,
 * throttled, retryAfterMs. Answers per host: held, paced (0/1), startInMs, contended (0/1),
 * backoff (0 none, 1 throttled, 2 slow), limit, delayMs. Redis's clock, so instances agree.
 */
export const SETTLE_HOSTS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local name = ARGV[1]
local leaseMs = tonumber(ARGV[2])
local maxC, minDelay, maxBackoff = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local step, recoverAfter, slowMargin, drift, memoryMs, burstMs = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
local out = {}
for i, key in ipairs(KEYS) do
  local a = 11 + (i - 1) * 7
  local busy, want, start = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2]), ARGV[a + 3] == '1'
  local ok, latency, throttled, retryAfter = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5]), tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
  local raw = redis.call('GET', key)
  local s
  if raw then s = cjson.decode(raw) else s = { limit = maxC, delay = 0, nextAt = 0, base = 0, streak = 0, backoffAt = 0, line = 0, holders = {} } end
  if type(s.holders) ~= 'table' then s.holders = {} end
  for other, h in pairs(s.holders) do
    if h.lapse < now then s.holders[other] = nil end
  end
  local backoff = 0
  if throttled > 0 then
    s.streak = 0
    if retryAfter > 0 then s.nextAt = math.max(s.nextAt, now + math.min(retryAfter, maxBackoff)) end
    if now - (s.backoffAt or 0) >= burstMs then
      s.backoffAt = now
      s.limit = math.max(1, math.floor(s.limit / 2))
      s.delay = math.min(maxBackoff, math.max(2 * s.delay, step))
      backoff = 1
    end
  elseif ok > 0 then
    local slow = s.base > 0 and latency > 2 * s.base and latency - s.base > slowMargin
    if s.base == 0 or latency < s.base then s.base = latency else s.base = s.base + (latency - s.base) * drift end
    if slow then
      s.streak = 0
      if now - (s.backoffAt or 0) >= burstMs then
        s.backoffAt = now
        s.limit = math.max(1, s.limit - 1)
        backoff = 2
      end
    else
      s.streak = s.streak + ok
      if s.streak >= recoverAfter then
        s.streak = 0
        s.limit = math.min(maxC, s.limit + 1)
        if s.delay <= step then s.delay = 0 else s.delay = math.floor(s.delay / 2) end
      end
    end
  end
  local cap = math.max(1, math.min(maxC, s.limit))
  local me = s.holders[name]
  if not me then
    me = { held = 0, want = 0, since = 0, lapse = 0 }
    s.holders[name] = me
  end
  me.want = want
  s.line = s.line or 0
  if me.held == 0 and me.want > 0 and me.since == 0 then
    s.line = s.line + 1
    me.since = s.line
  end
  local contenders, othersHeld, contended, oldestIdle = 0, 0, false, true
  for other, h in pairs(s.holders) do
    if h.want > 0 then contenders = contenders + 1 end
    if other ~= name then
      othersHeld = othersHeld + h.held
      if h.held < h.want then contended = true end
      if h.held == 0 and h.want > 0 and h.since < me.since then oldestIdle = false end
    end
  end
  local allowed = me.want
  if contended then
    local share = math.floor(cap / contenders)
    if share == 0 then
      if me.held == 0 and oldestIdle then share = 1 else share = 0 end
    end
    allowed = math.min(allowed, share)
  end
  local held = math.max(busy, math.min(allowed, cap - othersHeld))
  if held == 0 and me.want > 0 then
    if me.since == 0 then
      s.line = s.line + 1
      me.since = s.line
    end
  else
    me.since = 0
  end
  me.held = held
  me.lapse = now + leaseMs
  if held == 0 and me.want == 0 then s.holders[name] = nil end
  local delay = math.max(minDelay, s.delay)
  local paced = delay > 0 or s.nextAt > now
  local startIn = -1
  if start and held > busy then
    local at = math.max(now, s.nextAt)
    s.nextAt = at + delay
    startIn = at - now
  end
  if next(s.holders) == nil then s.holders = nil end
  redis.call('SET', key, cjson.encode(s), 'PX', memoryMs)
  if s.holders == nil then s.holders = {} end
  out[#out + 1] = { held, paced and 1 or 0, startIn, contended and 1 or 0, backoff, cap, delay }
end
return out
`;
