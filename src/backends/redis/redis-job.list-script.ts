/** The RedisJobStore's listing script (GET /jobs), over the indexes of redis-job.index.lua.ts. */
import { script } from './redis-job.lua';

/**
 * ARGV: p, '', owner given ('1'/'0'), owner, status, kind, q ('' none; lower-cased), before ('' =
 * from the newest), limit, budget, now, maxAgeMs, nLabels, then label key/value pairs.
 * Returns {header hashes, next ('' = none), total (-1 = not counted)}.
 *
 * Finished jobs past maxAgeMs are evicted first (their hashes may have expired already), so no
 * page and no count holds one. Then the smallest zset the filters name is walked from `before`
 * down, in chunks: with one filter (or none) and no q, every entry matches and the walk stops
 * after the page; otherwise each candidate's hash is checked, and the walk stops after `budget`
 * candidates whatever it found, so one call's cost is bounded (the caller continues from `next`).
 */
export const list = script(`
local hasOwner, owner, status, kind, q = ARGV[3] == '1', ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local before, limit, budget = ARGV[8], tonumber(ARGV[9]), tonumber(ARGV[10])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. ':finished', '-inf', tonumber(ARGV[11]) - tonumber(ARGV[12]))) do dropJob(id) end
indexOwners()
local scopes = scopesOf(hasOwner and owner or nil)
local scope = scopes[#scopes]
local named, labels = {}, {}
if status ~= '' then named[#named + 1] = statusKey(scope, status) end
if kind ~= '' then named[#named + 1] = kindKey(scope, kind) end
for i = 1, tonumber(ARGV[13]) do
  local k, v = ARGV[12 + 2 * i], ARGV[13 + 2 * i]
  labels[#labels + 1] = labelKey(scope, k, v)
  named[#named + 1] = labels[#labels]
end
local walked, size = scope.all, nil
if #named == 0 then size = redis.call('ZCARD', walked) end
for _, k in ipairs(named) do
  local n = redis.call('ZCARD', k)
  if not size or n < size then walked, size = k, n end
end
local checks = #named > 1 or q ~= ''
local items, examined, last = {}, 0, nil
-- Counted after the walk, which drops any entry whose job is gone.
local function done(next)
  return {items, next, checks and -1 or redis.call('ZCARD', walked)}
end
local function matches(id)
  local h = redis.call('HMGET', key(id), 'status', 'kind', 'owner', 'search')
  if not h[1] then
    -- Its keys expired, and eviction had nothing to find it by (an older instance finished it).
    redis.call('ZREM', walked, id)
    return false
  end
  if status ~= '' and h[1] ~= status then
    -- A status entry an older instance left behind when the job moved on.
    if walked == statusKey(scope, status) then redis.call('ZREM', walked, id) end
    return false
  end
  if (kind ~= '' and h[2] ~= kind) or (hasOwner and h[3] ~= owner) then return false end
  for _, k in ipairs(labels) do
    if k ~= walked and not redis.call('ZSCORE', k, id) then return false end
  end
  if q == '' or string.sub(id, 1, #q) == q then return true end
  return h[4] and string.find(h[4], q, 1, true) ~= nil
end
local max = before == '' and '+inf' or '(' .. before
local chunk = checks and 200 or limit + 1
while true do
  local entries = redis.call('ZREVRANGEBYSCORE', walked, max, '-inf', 'WITHSCORES', 'LIMIT', 0, chunk)
  if #entries == 0 then return done('') end
  for i = 1, #entries, 2 do
    if #items >= limit or (checks and examined >= budget) then return done(last) end
    examined = examined + 1
    last = entries[i + 1]
    if matches(entries[i]) then items[#items + 1] = redis.call('HGETALL', key(entries[i])) end
  end
  max = '(' .. last
end
`);
