/**
 * The listing indexes (GET /jobs) as Lua helpers for the store's scripts (part of the prelude in
 * redis-job.lua.ts, which defines P and key()). Every job is in two scopes, every job's and its
 * owner's; in each, zsets of job ids scored by creation number (`order`):
 *   all       {p}:jobs  /  {p}:jobs:owner:{owner}        (the scope's every job)
 *   status    {scope}s:{status}    kind  {scope}k:{kind}    label  {scope}l:{key}={value}
 * with {scope} = {p}:ix:*: for every job's and {p}:ix:{#owner}:{owner}: for an owner's (the
 * length prefix keeps any owner string from meeting another's keys; label keys hold no `=`).
 * A listing walks the smallest zset its filters name from the cursor's score down.
 *   {p}:fidx   hash: finished id -> {status, kind, labels} (JSON), so eviction finds the job's
 *              index entries after its own keys expired (as {p}:fowner finds its owner)
 */
export const INDEX_LUA = `
local function scopesOf(owner)
  local scopes = {{all = P .. ':jobs', ix = P .. ':ix:*:'}}
  if owner then scopes[2] = {all = P .. ':jobs:owner:' .. owner, ix = P .. ':ix:' .. #owner .. ':' .. owner .. ':'} end
  return scopes
end
local function statusKey(scope, status) return scope.ix .. 's:' .. status end
local function kindKey(scope, kind) return scope.ix .. 'k:' .. kind end
local function labelKey(scope, k, v) return scope.ix .. 'l:' .. k .. '=' .. v end
-- A job's status, kind and label entries in each of its scopes (labels: the hash's JSON or nil).
local function filterKeys(owner, status, kind, labels)
  local keys = {}
  local decoded = labels and cjson.decode(labels) or {}
  for _, scope in ipairs(scopesOf(owner)) do
    keys[#keys + 1] = statusKey(scope, status)
    keys[#keys + 1] = kindKey(scope, kind)
    for k, v in pairs(decoded) do keys[#keys + 1] = labelKey(scope, k, v) end
  end
  return keys
end
local function indexFilters(id, order, owner, status, kind, labels)
  for _, k in ipairs(filterKeys(owner, status, kind, labels)) do redis.call('ZADD', k, order, id) end
end
local function restatus(id, owner, from, to)
  local order = redis.call('HGET', key(id), 'order')
  for _, scope in ipairs(scopesOf(owner)) do
    redis.call('ZREM', statusKey(scope, from), id)
    redis.call('ZADD', statusKey(scope, to), order, id)
  end
end
-- What eviction needs to find a finished job's entries once its hash has expired.
local function rememberFilters(id, status, kind, labels)
  redis.call('HSET', P .. ':fidx', id, cjson.encode({status, kind, labels or ''}))
end
local function forgetFilters(id, owner)
  local remembered = redis.call('HGET', P .. ':fidx', id)
  if not remembered then return end
  local f = cjson.decode(remembered)
  local labels = f[3] ~= '' and f[3] or nil
  for _, k in ipairs(filterKeys(owner or nil, f[1], f[2], labels)) do redis.call('ZREM', k, id) end
  redis.call('HDEL', P .. ':fidx', id)
end
`;
