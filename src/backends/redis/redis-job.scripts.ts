/** The RedisJobStore's scripts for jobs as a whole: admission, create, lifecycle, reads, leases. */
import { script } from './redis-job.lua';
import { list } from './redis-job.list-script';
import { TASK_SCRIPTS } from './redis-job.task-scripts';

/**
 * ARGV: p, id, version, callerId, rTasks, rBytes, counters (JSON: name -> n), nFields, field/value pairs...,
 * then every input's JSON joined by newlines (JSON has none of its own): one argument, not 100k.
 */
const create = script(`
if (redis.call('GET', P .. ':admission') or '0') ~= ARGV[3] then return 0 end
if redis.call('EXISTS', JK) == 1 then return 0 end
redis.call('INCR', P .. ':admission')
local order = redis.call('INCR', P .. ':jobs:order')
local fieldsEnd = 8 + 2 * tonumber(ARGV[8])
each('HSET', JK, ARGV, 9, fieldsEnd)
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
local h = redis.call('HMGET', JK, 'owner', 'kind', 'labels')
local owner = h[1]
if owner then
  redis.call('ZADD', P .. ':jobs:owner:' .. owner, order, ID)
  redis.call('SADD', P .. ':unfinished:owner:' .. owner, ID)
end
indexFilters(ID, order, owner or nil, 'queued', h[2], h[3] or nil)
-- The indexes hold every job up to this one only if they held every one before it.
if tonumber(redis.call('GET', P .. ':jobs:indexed') or '0') == order - 1 then redis.call('SET', P .. ':jobs:indexed', order) end
if tonumber(redis.call('GET', P .. ':jobs:listed') or '0') == order - 1 then redis.call('SET', P .. ':jobs:listed', order) end
local held = P .. ':held:' .. ARGV[4]
redis.call('HINCRBY', held, 'jobs', 1)
redis.call('HINCRBY', held, 'resultBytes', ARGV[6])
for name, n in pairs(cjson.decode(ARGV[7])) do redis.call('HINCRBY', held, 'c:' .. name, n) end
redis.call('INCRBY', P .. ':queued', ARGV[5])
return 1
`);

/** ARGV: p, id, now. Returns the header hash, or nil if the job was not queued. */
const start = script(`
if redis.call('HGET', JK, 'status') ~= 'queued' then return nil end
redis.call('HSET', JK, 'status', 'running', 'startedAt', ARGV[3])
restatus(ID, redis.call('HGET', JK, 'owner') or nil, 'queued', 'running')
redis.call('HINCRBY', JK, 'seq', 1)
return redis.call('HGETALL', JK)
`);

/** ARGV: p, id, summary JSON. */
const setSummary = script(`
local status = redis.call('HGET', JK, 'status')
if status and not isFinal(status) then redis.call('HSET', JK, 'summary', ARGV[3]) end
return 1
`);

/** ARGV: p, id, key/value pairs... Kept while the job is unfinished; finish's expiry and dropJob take them with the job. */
const saveNotes = script(`
local status = redis.call('HGET', JK, 'status')
if status and not isFinal(status) then each('HSET', key(ID, 'notes'), ARGV, 3, #ARGV) end
return 1
`);

/**
 * ARGV: p, id, prefix. Returns the matching notes as key/value pairs. The keys are walked here
 * (HKEYS: values are read only for matches) rather than with HSCAN MATCH, whose glob would need
 * the prefix's special characters escaped; a crawl holds one short key per origin.
 */
const readNotes = script(`
local prefix, notes, found = ARGV[3], key(ID, 'notes'), {}
for _, k in ipairs(redis.call('HKEYS', notes)) do
  if string.sub(k, 1, #prefix) == prefix then
    found[#found + 1] = k
    found[#found + 1] = redis.call('HGET', notes, k)
  end
end
return found
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
local h = redis.call('HMGET', JK, 'status', 'callerId', 'rTasks', 'rBytes', 'rCounters', 'completed', 'failed', 'cancelled', 'resultBytes', 'startedAt', 'owner', 'kind', 'labels')
if not h[1] or isFinal(h[1]) then return nil end
local now, maxAgeMs, maxCount, maxBytes = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
redis.call('HSET', JK, 'status', ARGV[3], 'finishedAt', ARGV[5])
if ARGV[4] ~= '' then redis.call('HSET', JK, 'reason', ARGV[4]) end
if not h[10] then redis.call('HSET', JK, 'startedAt', ARGV[5]) end
restatus(ID, h[11] or nil, h[1], ARGV[3])
rememberFilters(ID, ARGV[3], h[12], h[13] or nil)
redis.call('HINCRBY', JK, 'seq', 1)
redis.call('SREM', P .. ':unfinished', ID)
if h[11] then
  redis.call('SREM', P .. ':unfinished:owner:' .. h[11], ID)
  redis.call('HSET', P .. ':fowner', ID, h[11])
end
redis.call('DEL', P .. ':lease:' .. ID)
local finishedTasks = tonumber(h[6]) + tonumber(h[7]) + tonumber(h[8])
local remainder = tonumber(h[3]) - finishedTasks
if remainder > 0 then redis.call('DECRBY', P .. ':queued', remainder) end
local held = P .. ':held:' .. h[2]
redis.call('HINCRBY', held, 'resultBytes', 0 - tonumber(h[4]))
for name, n in pairs(cjson.decode(h[5] or '{}')) do
  if redis.call('HINCRBY', held, 'c:' .. name, 0 - n) <= 0 then redis.call('HDEL', held, 'c:' .. name) end
end
if redis.call('HINCRBY', held, 'jobs', -1) <= 0 then redis.call('DEL', held) end
local header = redis.call('HGETALL', JK)
-- Retention: every key of a finished job expires on its own after maxAgeMs...
redis.call('PEXPIRE', JK, maxAgeMs)
for _, part in ipairs(PARTS) do redis.call('PEXPIRE', key(ID, part), maxAgeMs) end
-- Ordered by when finish ran: jobs finishing in the same millisecond (or on a host whose clock
-- is behind) still leave in that order.
local last = redis.call('ZRANGE', P .. ':finished', -1, -1, 'WITHSCORES')[2]
local score = now
if last and tonumber(last) >= score then score = tonumber(last) + 0.001 end
redis.call('ZADD', P .. ':finished', score, ID)
redis.call('HSET', P .. ':fbytes', ID, h[9])
redis.call('INCRBY', P .. ':fbytes:total', h[9])
-- ...and the oldest finished jobs go at once when there are too many or they hold too many bytes.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ':finished', '-inf', now - maxAgeMs)) do dropJob(id) end
while redis.call('ZCARD', P .. ':finished') > maxCount or tonumber(redis.call('GET', P .. ':fbytes:total') or '0') > maxBytes do
  local oldest = redis.call('ZRANGE', P .. ':finished', 0, 0)[1]
  if not oldest then break end
  dropJob(oldest)
end
return header
`);

/**
 * ARGV: p, owner. The owner's unfinished job ids, from its index (see indexOwners). An id no
 * longer in {p}:unfinished (finished by an instance of an older version) is dropped from it.
 */
const unfinishedOf = script(`
indexOwners()
local mine, ids = P .. ':unfinished:owner:' .. ID, {}
for _, id in ipairs(redis.call('SMEMBERS', mine)) do
  if redis.call('SISMEMBER', P .. ':unfinished', id) == 1 then ids[#ids + 1] = id else redis.call('SREM', mine, id) end
end
return ids
`);

/** ARGV: p, id. Returns {header hash, states, progress hash} at one seq, or {} if unknown. */
const snapshot = script(`
local header = redis.call('HGETALL', JK)
if #header == 0 then return {} end
return {header, redis.call('GET', key(ID, 'st')) or '', redis.call('HGETALL', key(ID, 'prog'))}
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
  ...TASK_SCRIPTS,
  admission,
  create,
  start,
  setSummary,
  saveNotes,
  readNotes,
  requestCancel,
  finish,
  list,
  unfinishedOf,
  snapshot,
  claim,
  renew,
  release,
  unclaimed,
} as const;

export type JobStoreScript = keyof typeof JOB_STORE_SCRIPTS;
