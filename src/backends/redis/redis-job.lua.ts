/**
 * The RedisJobStore's Lua scripts: every write (and every read that must be consistent) is one
 * script, so it is atomic and one round trip. Each script gets ARGV[1] = key prefix and
 * ARGV[2] = job id, and derives the keys from them (eviction must reach other jobs' keys), so
 * the store runs on one Redis (primary), not on Redis Cluster.
 *
 * Key layout ({p} = prefix, {id} = job id, {owner} = a job's owner: an API key's owner id, 16 hex
 * digits (src/auth/api-keys.ts); the store takes any string, and since it is always the last part
 * of its key after a fixed `:owner:`, no two owners share a key and none meets another key):
 *   {p}:job:{id}        hash: header fields; params and summary as JSON; reservation as rTasks,
 *                       rBytes, rCounters (JSON); `order` = creation number
 *   {p}:job:{id}:in     list: input JSON by index
 *   {p}:job:{id}:st     string: one STATE_CODES letter per task (a snapshot is one GET)
 *   {p}:job:{id}:res    hash: index -> result JSON;  :err hash index -> error JSON
 *   {p}:job:{id}:prog   hash: index -> progress;     :seen set of task keys
 *   {p}:job:{id}:notes  hash: a kind's notes (saveNotes), key -> value
 *   {p}:lease:{id}      string: holder, with a PX TTL
 *   {p}:jobs            zset: id by creation number (list order)
 *   {p}:jobs:order      counter for the creation numbers
 *   {p}:unfinished      set of unfinished job ids
 *   {p}:jobs:owner:{owner}        zset: the owner's job ids by creation number (GET /jobs with a key)
 *   {p}:unfinished:owner:{owner}  set: the owner's unfinished job ids (`*` feeds with a key)
 *   {p}:fowner          hash: finished id -> owner, so eviction finds the owner's index after the
 *                       job's own keys expired
 *   {p}:jobs:indexed    counter: the per-owner indexes hold every job up to this creation number;
 *                       behind {p}:jobs:order, they are rebuilt before use (see indexOwners);
 *                       {p}:jobs:listed likewise for the listing indexes
 *   {p}:ix:...          zsets: the listing indexes by status, kind and label, per scope, and
 *                       {p}:fidx (see redis-job.index.lua.ts)
 *   {p}:finished        zset: finished id by finish time (retention); {p}:fbytes hash id -> result
 *                       bytes and {p}:fbytes:total their sum (maxBytes)
 *   {p}:held:{callerId} hash: jobs, resultBytes and c:{counter} (the kinds' counters) of unfinished jobs
 *   {p}:queued          counter: queue depth;  {p}:admission  version counter
 */

import { INDEX_LUA } from './redis-job.index.lua';

const PRELUDE = `
local P = ARGV[1]
local ID = ARGV[2]
local function key(id, part)
  if part then return P .. ':job:' .. id .. ':' .. part end
  return P .. ':job:' .. id
end
local JK = key(ID)
${INDEX_LUA}
local PARTS = {'in', 'st', 'res', 'err', 'prog', 'seen', 'notes'}
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
  local owner = redis.call('HGET', P .. ':fowner', id)
  forgetFilters(id, owner)
  if owner then
    redis.call('ZREM', P .. ':jobs:owner:' .. owner, id)
    redis.call('SREM', P .. ':unfinished:owner:' .. owner, id)
    redis.call('HDEL', P .. ':fowner', id)
  end
end
-- Makes the per-owner and listing indexes whole before a read uses them. They are complete when every job
-- created so far was created by a script that indexes it: a store upgraded in place (jobs
-- created before the indexes existed), or an instance of an older version still creating jobs
-- during a rolling upgrade, leaves {p}:jobs:indexed behind {p}:jobs:order, and the indexes are
-- rebuilt from {p}:jobs once: one walk of every stored job, then per-owner reads again.
-- {p}:jobs:listed does the same for the listing indexes (redis-job.index.lua.ts), which came later.
local function indexOwners()
  local order = redis.call('GET', P .. ':jobs:order') or '0'
  if (redis.call('GET', P .. ':jobs:indexed') or '0') == order and (redis.call('GET', P .. ':jobs:listed') or '0') == order then return end
  local all = redis.call('ZRANGE', P .. ':jobs', 0, -1, 'WITHSCORES')
  for i = 1, #all, 2 do
    local id = all[i]
    local h = redis.call('HMGET', key(id), 'owner', 'status', 'kind', 'labels')
    local owner = h[1]
    if h[2] then
      indexFilters(id, all[i + 1], owner or nil, h[2], h[3], h[4] or nil)
      if isFinal(h[2]) then rememberFilters(id, h[2], h[3], h[4] or nil) end
    end
    if owner then
      redis.call('ZADD', P .. ':jobs:owner:' .. owner, all[i + 1], id)
      if redis.call('SISMEMBER', P .. ':unfinished', id) == 1 then
        redis.call('SADD', P .. ':unfinished:owner:' .. owner, id)
      elseif redis.call('ZSCORE', P .. ':finished', id) then
        redis.call('HSET', P .. ':fowner', id, owner)
      end
    end
  end
  redis.call('SET', P .. ':jobs:indexed', order)
  redis.call('SET', P .. ':jobs:listed', order)
end
`;

export function script(body: string): string {
  return PRELUDE + body;
}
