/**
 * The RedisJobStore's Lua scripts: every write (and every read that must be consistent) is one
 * script, so it is atomic and one round trip. Each script gets ARGV[1] = key prefix and
 * ARGV[2] = job id, and derives the keys from them (eviction must reach other jobs' keys), so
 * the store runs on one Redis (primary), not on Redis Cluster.
 *
 * Key layout ({p} = prefix, {id} = job id):
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
 *   {p}:finished        zset: finished id by finish time (retention); {p}:fbytes hash id -> result
 *                       bytes and {p}:fbytes:total their sum (maxBytes)
 *   {p}:held:{callerId} hash: jobs, resultBytes and c:{counter} (the kinds' counters) of unfinished jobs
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
end
`;

export function script(body: string): string {
  return PRELUDE + body;
}
