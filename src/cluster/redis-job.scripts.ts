/**
 * The RedisJobStore's Lua scripts: every write (and every read that must be consistent) is one
 * script, so it is atomic and one round trip. Each script gets ARGV[1] = key prefix and
 * ARGV[2] = job id, and derives the keys from them (eviction must reach other jobs' keys), so
 * the store runs on one Redis (primary), not on Redis Cluster.
 *
 * Key layout ({p} = prefix, {id} = job id):
 *   {p}:job:{id}        hash: header fields; params and summary as JSON; reservation as rTasks,
 *                       rBytes, rPages, rFetches; `order` = creation number
 *   {p}:job:{id}:in     list: input JSON by index
 *   {p}:job:{id}:st     string: one STATE_CODES letter per task (a snapshot is one GET)
 *   {p}:job:{id}:res    hash: index -> result JSON;  :err hash index -> error JSON
 *   {p}:job:{id}:prog   hash: index -> progress;     :seen set of task keys
 *   {p}:lease:{id}      string: holder, with a PX TTL
 *   {p}:jobs            zset: id by creation number (list order)
 *   {p}:jobs:order      counter for the creation numbers
 *   {p}:unfinished      set of unfinished job ids
 *   {p}:finished        zset: finished id by finish time (retention); {p}:fbytes hash id -> result
 *                       bytes and {p}:fbytes:total their sum (maxBytes)
 *   {p}:held:{callerId} hash: jobs, resultBytes, crawlPages, crawlFetches of unfinished jobs
 *   {p}:queued          counter: queue depth;  {p}:admission  version counter
 */

const PRELUDE = `
local P = ARGV[1]
local ID = ARGV[2]
local function key(id, part)
  if part then return P .. ':job:' .. id .. ':' .. part end
  return P .. ':job:' .. id
end
local JK = key(ID)
local PARTS = {'in', 'st', 'res', 'err', 'prog', 'seen'}
local FINISHED = {c = true, f = true, x = true}
local function isFinal(status) return status == 'completed' or status == 'failed' or status == 'cancelled' end
-- Variadic commands in chunks: Lua's unpack has a small stack.
local function each(cmd, k, list, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 999, to)
    redis.call(cmd, k, unpack(list, i, j))
    i = j + 1
  end
end
local function dropJob(id)
  redis.call('DEL', key(id), P .. ':lease:' .. id)
  for _, part in ipairs(PARTS) do redis.call('DEL', key(id, part)) end
  redis.call('ZREM', P .. ':jobs', id)
  redis.call('ZREM', P .. ':finished', id)
  local bytes = tonumber(redis.call('HGET', P .. ':fbytes', id) or '0')
  redis.call('HDEL', P .. ':fbytes', id)
  redis.call('DECRBY', P .. ':fbytes:total', bytes)
end
`;

function script(body: string): string {
  return PRELUDE + body;
}

/**
 * ARGV: p, id, version, callerId, rTasks, rBytes, rPages, rFetches, nFields, field/value pairs...,
 * then every input's JSON joined by newlines (JSON has none of its own): one argument, not 100k.
 */
const create = script(`
if (redis.call('GET', P .. ':admission') or '0') ~= ARGV[3] then return 0 end
if redis.call('EXISTS', JK) == 1 then return 0 end
redis.call('INCR', P .. ':admission')
local order = redis.call('INCR', P .. ':jobs:order')
local fieldsEnd = 9 + 2 * tonumber(ARGV[9])
each('HSET', JK, ARGV, 10, fieldsEnd)
local inputs, total, batch = key(ID, 'in'), 0, {}
for input in string.gmatch(ARGV[fieldsEnd + 1], '[^\\n]+') do
  total = total + 1
  batch[#batch + 1] = input
  if #batch == 1000 then
    redis.call('RPUSH', inputs, unpack(batch))
    batch = {}
  end
end
if #batch > 0 then redis.call('RPUSH', inputs, unpack(batch)) end
if total > 0 then redis.call('SET', key(ID, 'st'), string.rep('q', total)) end
redis.call('HSET', JK, 'order', order, 'total', total)
redis.call('ZADD', P .. ':jobs', order, ID)
redis.call('SADD', P .. ':unfinished', ID)
local held = P .. ':held:' .. ARGV[4]
redis.call('HINCRBY', held, 'jobs', 1)
redis.call('HINCRBY', held, 'resultBytes', ARGV[6])
redis.call('HINCRBY', held, 'crawlPages', ARGV[7])
redis.call('HINCRBY', held, 'crawlFetches', ARGV[8])
redis.call('INCRBY', P .. ':queued', ARGV[5])
return 1
`);

/**
 * ARGV: p, id, the updates' small fields packed in one string ("index,code,progress,bytes,hasResult,hasError;"
 * per update: one argument instead of six, which is most of the cost of a 5,000-update call),
 * then the result and error JSON of the updates that have them, in update order (never decoded
 * here). Returns {seq, positions that took effect, status, total, completed, failed, cancelled,
 * resultBytes, summary JSON or ''}; {} for an unknown job.
 */
const apply = script(`
local h = redis.call('HMGET', JK, 'status', 'total', 'completed', 'failed', 'cancelled', 'resultBytes', 'seq', 'rTasks', 'summary')
if not h[1] then return {} end
local status, total, seq, rTasks = h[1], tonumber(h[2]), tonumber(h[7]), tonumber(h[8])
local counts = {c = tonumber(h[3]), f = tonumber(h[4]), x = tonumber(h[5])}
local resultBytes = tonumber(h[6])
local changed = {}
if not isFinal(status) then
  local st, prog = key(ID, 'st'), key(ID, 'prog')
  local states = redis.call('GET', st) or ''
  -- Codes written by this call, by index: later updates in the batch see them.
  local written = {}
  local results, errors = {}, {}
  -- Each touched task's last progress (false: dropped), written once at the end.
  local progressOf, progressTouched = {}, {}
  local function setProgress(index, value)
    if progressOf[index] == nil then progressTouched[#progressTouched + 1] = index end
    progressOf[index] = value
  end
  local released, nextArg, position = 0, 4, -1
  for index, code, progress, bytes, hasResult, hasError in string.gmatch(ARGV[3], '([^,;]*),([^,;]*),([^,;]*),([^,;]*),(%d),(%d);') do
    position = position + 1
    local result, error
    if hasResult == '1' then result = ARGV[nextArg]; nextArg = nextArg + 1 end
    if hasError == '1' then error = ARGV[nextArg]; nextArg = nextArg + 1 end
    index = tonumber(index)
    if index >= 0 and index < total and code ~= '' then
      local current = written[index] or string.sub(states, index + 1, index + 1)
      if not FINISHED[current] then
        local took = false
        if code == current then
          if code == 'r' and progress ~= '' then
            setProgress(index, progress)
            took = true
          end
        else
          took = true
          written[index] = code
          redis.call('SETRANGE', st, index, code)
          if FINISHED[code] then
            counts[code] = counts[code] + 1
            -- A job's share of the queue depth is its reservation; tasks past it never counted.
            if counts.c + counts.f + counts.x <= rTasks then released = released + 1 end
          end
          setProgress(index, code == 'r' and progress ~= '' and progress)
          if result then
            results[#results + 1] = index
            results[#results + 1] = result
          end
          if error then
            errors[#errors + 1] = index
            errors[#errors + 1] = error
          end
          resultBytes = resultBytes + tonumber(bytes)
        end
        if took then changed[#changed + 1] = position end
      end
    end
  end
  if #changed > 0 then
    seq = seq + 1
    redis.call('HSET', JK, 'completed', counts.c, 'failed', counts.f, 'cancelled', counts.x, 'resultBytes', resultBytes, 'seq', seq)
    if released > 0 then redis.call('DECRBY', P .. ':queued', released) end
    local progressSet, progressDropped = {}, {}
    for _, index in ipairs(progressTouched) do
      if progressOf[index] then
        progressSet[#progressSet + 1] = index
        progressSet[#progressSet + 1] = progressOf[index]
      else
        progressDropped[#progressDropped + 1] = index
      end
    end
    each('HSET', prog, progressSet, 1, #progressSet)
    each('HDEL', prog, progressDropped, 1, #progressDropped)
    each('HSET', key(ID, 'res'), results, 1, #results)
    each('HSET', key(ID, 'err'), errors, 1, #errors)
  end
end
return {seq, changed, status, total, counts.c, counts.f, counts.x, resultBytes, h[9] or ''}
`);

/** ARGV: p, id. Cancels every unfinished task; returns like apply, with indexes and input JSON instead of positions. */
const settle = script(`
local h = redis.call('HMGET', JK, 'status', 'total', 'completed', 'failed', 'cancelled', 'resultBytes', 'seq', 'rTasks', 'summary')
if not h[1] then return {} end
local status, total, seq, rTasks = h[1], tonumber(h[2]), tonumber(h[7]), tonumber(h[8])
local completed, failed, cancelled = tonumber(h[3]), tonumber(h[4]), tonumber(h[5])
local changed, inputs = {}, {}
if not isFinal(status) then
  local states = redis.call('GET', key(ID, 'st')) or ''
  for i = 1, #states do
    local code = string.sub(states, i, i)
    if code == 'q' or code == 'r' then changed[#changed + 1] = i - 1 end
  end
  if #changed > 0 then
    local before = completed + failed + cancelled
    cancelled = cancelled + #changed
    local released = math.min(before + #changed, rTasks) - math.min(before, rTasks)
    if released > 0 then redis.call('DECRBY', P .. ':queued', released) end
    redis.call('SET', key(ID, 'st'), (string.gsub(states, '[qr]', 'x')))
    redis.call('DEL', key(ID, 'prog'))
    seq = seq + 1
    redis.call('HSET', JK, 'cancelled', cancelled, 'seq', seq)
    if #changed > 64 then
      local all = redis.call('LRANGE', key(ID, 'in'), 0, -1)
      for n, index in ipairs(changed) do inputs[n] = all[index + 1] end
    else
      for n, index in ipairs(changed) do inputs[n] = redis.call('LINDEX', key(ID, 'in'), index) end
    end
  end
end
return {seq, changed, status, total, completed, failed, cancelled, tonumber(h[6]), h[9] or '', inputs}
`);

/** ARGV: p, id, maxTotal, then 3 per task: has key ('1'/'0'), key, input JSON. Returns {position, index} pairs. */
const appendTasks = script(`
local h = redis.call('HMGET', JK, 'status', 'total')
if not h[1] or isFinal(h[1]) then return {} end
local total, maxTotal = tonumber(h[2]), tonumber(ARGV[3])
local seen, inputs = key(ID, 'seen'), key(ID, 'in')
local appended, codes = {}, {}
for i = 0, (#ARGV - 3) / 3 - 1 do
  local b = 4 + i * 3
  if ARGV[b] == '0' or redis.call('SADD', seen, ARGV[b + 1]) == 1 then
    if total < maxTotal then
      redis.call('RPUSH', inputs, ARGV[b + 2])
      appended[#appended + 1] = i
      appended[#appended + 1] = total
      codes[#codes + 1] = 'q'
      total = total + 1
    end
  end
end
if #codes > 0 then
  redis.call('APPEND', key(ID, 'st'), table.concat(codes))
  redis.call('HSET', JK, 'total', total)
  redis.call('HINCRBY', JK, 'seq', 1)
end
return appended
`);

/** ARGV: p, id, keys... Returns how many keys the job has seen (0 for an unknown job). */
const markSeen = script(`
local status = redis.call('HGET', JK, 'status')
if not status then return 0 end
if not isFinal(status) and #ARGV > 2 then each('SADD', key(ID, 'seen'), ARGV, 3, #ARGV) end
return redis.call('SCARD', key(ID, 'seen'))
`);

/** ARGV: p, id, now. Returns the header hash, or nil if the job was not queued. */
const start = script(`
if redis.call('HGET', JK, 'status') ~= 'queued' then return nil end
redis.call('HSET', JK, 'status', 'running', 'startedAt', ARGV[3])
redis.call('HINCRBY', JK, 'seq', 1)
return redis.call('HGETALL', JK)
`);

/** ARGV: p, id, summary JSON. */
const setSummary = script(`
local status = redis.call('HGET', JK, 'status')
if status and not isFinal(status) then redis.call('HSET', JK, 'summary', ARGV[3]) end
return 1
`);

/** ARGV: p, id, reason. Returns the header hash; nil for an unknown job. */
const requestCancel = script(`
local status = redis.call('HGET', JK, 'status')
if not status then return nil end
if not isFinal(status) then redis.call('HSETNX', JK, 'cancelRequested', ARGV[3]) end
return redis.call('HGETALL', JK)
`);

/**
 * ARGV: p, id, status, reason ('' none), now, maxAgeMs, maxCount, maxBytes. Ends the job, releases
 * its holdings and queue depth, starts its expiry and evicts finished jobs past the bounds.
 * Returns the header hash as it was written (before eviction), or nil if it had ended already.
 */
const finish = script(`
local h = redis.call('HMGET', JK, 'status', 'callerId', 'rTasks', 'rBytes', 'rPages', 'rFetches', 'completed', 'failed', 'cancelled', 'resultBytes', 'startedAt')
if not h[1] or isFinal(h[1]) then return nil end
local now, maxAgeMs, maxCount, maxBytes = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
redis.call('HSET', JK, 'status', ARGV[3], 'finishedAt', ARGV[5])
if ARGV[4] ~= '' then redis.call('HSET', JK, 'reason', ARGV[4]) end
if not h[11] then redis.call('HSET', JK, 'startedAt', ARGV[5]) end
redis.call('HINCRBY', JK, 'seq', 1)
redis.call('SREM', P .. ':unfinished', ID)
redis.call('DEL', P .. ':lease:' .. ID)
local finishedTasks = tonumber(h[7]) + tonumber(h[8]) + tonumber(h[9])
local remainder = tonumber(h[3]) - finishedTasks
if remainder > 0 then redis.call('DECRBY', P .. ':queued', remainder) end
local held = P .. ':held:' .. h[2]
redis.call('HINCRBY', held, 'resultBytes', 0 - tonumber(h[4]))
redis.call('HINCRBY', held, 'crawlPages', 0 - tonumber(h[5]))
redis.call('HINCRBY', held, 'crawlFetches', 0 - tonumber(h[6]))
if redis.call('HINCRBY', held, 'jobs', -1) <= 0 then redis.call('DEL', held) end
local header = redis.call('HGETALL', JK)
-- Retention: every key of a finished job expires on its own after maxAgeMs...
redis.call('PEXPIRE', JK, maxAgeMs)
for _, part in ipairs(PARTS) do redis.call('PEXPIRE', key(ID, part), maxAgeMs) end
redis.call('ZADD', P .. ':finished', now, ID)
redis.call('HSET', P .. ':fbytes', ID, h[10])
redis.call('INCRBY', P .. ':fbytes:total', h[10])
-- ...and the oldest finished jobs go at once when there are too many or they hold too many bytes.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ':finished', '-inf', now - maxAgeMs)) do dropJob(id) end
while redis.call('ZCARD', P .. ':finished') > maxCount or tonumber(redis.call('GET', P .. ':fbytes:total') or '0') > maxBytes do
  local oldest = redis.call('ZRANGE', P .. ':finished', 0, 0)[1]
  if not oldest then break end
  dropJob(oldest)
end
return header
`);

/** ARGV: p, '', status, kind, owner given ('1'/'0'), owner, offset, limit. Returns {total, header hashes...}. */
const list = script(`
local status, kind, hasOwner, owner = ARGV[3], ARGV[4], ARGV[5] == '1', ARGV[6]
local first, last = tonumber(ARGV[7]), tonumber(ARGV[7]) + tonumber(ARGV[8]) - 1
local total, items = 0, {0}
for _, id in ipairs(redis.call('ZREVRANGE', P .. ':jobs', 0, -1)) do
  local h = redis.call('HMGET', key(id), 'status', 'kind', 'owner')
  -- A job whose keys expired (retention) still has its zset entry until the next finish.
  if h[1] and (status == '' or h[1] == status) and (kind == '' or h[2] == kind) and (not hasOwner or h[3] == owner) then
    if total >= first and total <= last then items[#items + 1] = redis.call('HGETALL', key(id)) end
    total = total + 1
  end
end
items[1] = total
return items
`);

/** ARGV: p, id. Returns {header hash, states, progress hash} at one seq, or {} if unknown. */
const snapshot = script(`
local header = redis.call('HGETALL', JK)
if #header == 0 then return {} end
return {header, redis.call('GET', key(ID, 'st')) or '', redis.call('HGETALL', key(ID, 'prog'))}
`);

/** ARGV: p, id, offset, limit. Returns {first index, inputs, states, results, errors} or {}. */
const tasks = script(`
local total = tonumber(redis.call('HGET', JK, 'total') or '0')
local first = math.max(0, tonumber(ARGV[3]))
local last = math.min(total, first + tonumber(ARGV[4])) - 1
if last < first then return {} end
local fields = {}
for i = first, last do fields[#fields + 1] = i end
local function readHash(k)
  local values = {}
  local i = 1
  while i <= #fields do
    local j = math.min(i + 999, #fields)
    for _, v in ipairs(redis.call('HMGET', k, unpack(fields, i, j))) do values[#values + 1] = v end
    i = j + 1
  end
  return values
end
return {first, redis.call('LRANGE', key(ID, 'in'), first, last), redis.call('GETRANGE', key(ID, 'st'), first, last), readHash(key(ID, 'res')), readHash(key(ID, 'err'))}
`);

/** ARGV: p, id, holder, ttlMs. */
const claim = script(`
if redis.call('SISMEMBER', P .. ':unfinished', ID) == 0 then return 0 end
local lease = P .. ':lease:' .. ID
local holder = redis.call('GET', lease)
if holder and holder ~= ARGV[3] then return 0 end
redis.call('SET', lease, ARGV[3], 'PX', ARGV[4])
return 1
`);

/** ARGV: p, id, holder, ttlMs. */
const renew = script(`
local lease = P .. ':lease:' .. ID
if redis.call('SISMEMBER', P .. ':unfinished', ID) == 0 or redis.call('GET', lease) ~= ARGV[3] then return 0 end
redis.call('PEXPIRE', lease, ARGV[4])
return 1
`);

/** ARGV: p, id, holder. */
const release = script(`
local lease = P .. ':lease:' .. ID
if redis.call('GET', lease) == ARGV[3] then redis.call('DEL', lease) end
return 1
`);

/** ARGV: p, ''. */
const unclaimed = script(`
local ids = {}
for _, id in ipairs(redis.call('SMEMBERS', P .. ':unfinished')) do
  if redis.call('EXISTS', P .. ':lease:' .. id) == 0 then ids[#ids + 1] = id end
end
return ids
`);

/** ARGV: p, callerId. Returns {held hash, queued, version}. */
const admission = script(`
return {redis.call('HGETALL', P .. ':held:' .. ID), redis.call('GET', P .. ':queued') or '0', redis.call('GET', P .. ':admission') or '0'}
`);

export const JOB_STORE_SCRIPTS = {
  admission,
  create,
  apply,
  settle,
  appendTasks,
  markSeen,
  start,
  setSummary,
  requestCancel,
  finish,
  list,
  snapshot,
  tasks,
  claim,
  renew,
  release,
  unclaimed,
} as const;

export type JobStoreScript = keyof typeof JOB_STORE_SCRIPTS;
