/** The RedisJobStore's scripts for a job's tasks: updates, settle, appends, seen keys, a page of tasks. */
import { RATE_MAX_SAMPLES, RATE_STEP_MS, RATE_WINDOW_MS } from '../../jobs/job-rate';
import { script } from './redis-job.lua';

/**
 * The rate ring after a write (src/jobs/job-rate.ts addSample, which this mirrors: keep them
 * alike): 't,n;' pairs, oldest first.
 */
const ADD_SAMPLE = `
local function addSample(ring, now, done)
  local s = {}
  for t, n in string.gmatch(ring or '', '(%d+),(%d+);') do s[#s + 1] = {tonumber(t), tonumber(n)} end
  local at = #s >= 1 and math.max(now, s[#s][1]) or now
  if #s >= 2 and s[#s][1] - s[#s - 1][1] < ${RATE_STEP_MS} then s[#s] = {at, done} else s[#s + 1] = {at, done} end
  while #s > 2 and (s[2][1] <= at - ${RATE_WINDOW_MS} or #s > ${RATE_MAX_SAMPLES}) do table.remove(s, 1) end
  local parts = {}
  for i, sample in ipairs(s) do parts[i] = string.format('%d,%d;', sample[1], sample[2]) end
  return table.concat(parts)
end
`;

/**
 * ARGV: p, id, now (ms, for the rate ring), the updates' small fields packed in one string
 * ("index,code,progress,bytes,hasResult,hasError;" per update: one argument instead of six, which is most of the cost of a 5,000-update call),
 * then the announcement's two event pieces ('' when none: see Announce and applyArgs), then the
 * result and error JSON of the updates that have them, in update order (never decoded
 * here). Returns {seq, positions that took effect, status, total, completed, failed, cancelled,
 * resultBytes, summary JSON or ''}; {} for an unknown job.
 */
const apply = script(`${ADD_SAMPLE}
local h = redis.call('HMGET', JK, 'status', 'total', 'completed', 'failed', 'cancelled', 'resultBytes', 'seq', 'rTasks', 'summary', 'rs')
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
  local released, nextArg, position = 0, 7, -1
  for index, code, progress, bytes, hasResult, hasError in string.gmatch(ARGV[4], '([^,;]*),([^,;]*),([^,;]*),([^,;]*),(%d),(%d);') do
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
    local done = counts.c + counts.f
    if done ~= tonumber(h[3]) + tonumber(h[4]) then redis.call('HSET', JK, 'rs', addSample(h[10], tonumber(ARGV[3]), done)) end
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
    -- The event of what took effect, published in this same atomic step (see Announce): the
    -- updates' JSON follow the payloads, one per position; at most 1,000 updates a message.
    if ARGV[5] ~= '' then
      local channel = P .. ':ev:' .. ID
      local tail = ']' .. ((h[9] and h[9] ~= '') and (',"summary":' .. h[9]) or '') .. '}}'
      for from = 1, #changed, 1000 do
        local parts = {}
        for i = from, math.min(from + 999, #changed) do parts[#parts + 1] = ARGV[nextArg + changed[i]] end
        redis.call('PUBLISH', channel, ARGV[5] .. seq .. ARGV[6] .. table.concat(parts, ',') .. tail)
      end
    end
  end
end
return {seq, changed, status, total, counts.c, counts.f, counts.x, resultBytes, h[9] or '', ARGV[5] ~= '' and #changed > 0 and 1 or 0}
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

/**
 * ARGV: p, id, maxTotal, the announcement's two event pieces ('' when none), the task count, then
 * 3 per task: has key ('1'/'0'), key, input JSON; then, when announcing, each task's queued update
 * JSON without its opening `{` and index. Returns {position, index} pairs.
 */
const appendTasks = script(`
local h = redis.call('HMGET', JK, 'status', 'total')
if not h[1] or isFinal(h[1]) then return {} end
local total, maxTotal, count = tonumber(h[2]), tonumber(ARGV[3]), tonumber(ARGV[6])
local seen, inputs = key(ID, 'seen'), key(ID, 'in')
local appended, codes, updates = {}, {}, {}
for i = 0, count - 1 do
  local b = 7 + i * 3
  if ARGV[b] == '0' or redis.call('SADD', seen, ARGV[b + 1]) == 1 then
    if total < maxTotal then
      redis.call('RPUSH', inputs, ARGV[b + 2])
      appended[#appended + 1] = i
      appended[#appended + 1] = total
      codes[#codes + 1] = 'q'
      -- The task's queued update, its index known only now (see Announce).
      if ARGV[4] ~= '' then updates[#updates + 1] = '{"index":' .. total .. ',' .. ARGV[7 + count * 3 + i] end
      total = total + 1
    end
  end
end
if #codes > 0 then
  redis.call('APPEND', key(ID, 'st'), table.concat(codes))
  redis.call('HSET', JK, 'total', total)
  local seq = redis.call('HINCRBY', JK, 'seq', 1)
  for from = 1, #updates, 1000 do
    redis.call('PUBLISH', P .. ':ev:' .. ID, ARGV[4] .. seq .. ARGV[5] .. table.concat(updates, ',', from, math.min(from + 999, #updates)) .. ']}}')
  end
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

/**
 * ARGV: p, id, offset, limit. Returns {first index, inputs, states} or {}. The results and errors
 * are read by HMGETs in the same MULTI (see RedisJobStore.tasks): a value copied through Lua costs
 * about ten times a plain read (20 MB of results: 310 ms against 17-40 ms).
 */
const tasks = script(`
local total = tonumber(redis.call('HGET', JK, 'total') or '0')
local first = math.max(0, tonumber(ARGV[3]))
local last = math.min(total, first + tonumber(ARGV[4])) - 1
if last < first then return {} end
return {first, redis.call('LRANGE', key(ID, 'in'), first, last), redis.call('GETRANGE', key(ID, 'st'), first, last)}
`);

/** ARGV: p, id, then task indexes. Each index's input and state code (none past the total); results and errors as for `tasks`. */
const tasksAt = script(`
local total = tonumber(redis.call('HGET', JK, 'total') or '0')
local fields = {}
for i = 3, #ARGV do
  local index = tonumber(ARGV[i])
  if index and index >= 0 and index < total then fields[#fields + 1] = index end
end
if #fields == 0 then return {} end
local inputs, states = {}, {}
for i, index in ipairs(fields) do
  inputs[i] = redis.call('LINDEX', key(ID, 'in'), index)
  states[i] = redis.call('GETRANGE', key(ID, 'st'), index, index)
end
return {fields, inputs, states}
`);

export const TASK_SCRIPTS = { apply, settle, appendTasks, markSeen, tasks, tasksAt } as const;
