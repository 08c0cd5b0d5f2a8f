import type { RedisScript } from '../redis-script.js';

/**
 * KEYS: 1 refs hash, 2 the node's claimed hash
 * ARGV: 1 key prefix, 2 free cpus, 3 free memory MB, 4 total cpus, 5 total memory MB, 6 window, 7 max refs,
 *       8 starvation bound ms, 9.. the node's partitions
 * Looks at the first `window` refs of each partition, in (priority desc, submit order) across them, and takes the
 * first that fit what is still free (an exclusive ref only on an idle node, and it takes the whole node), moving
 * them to the node's claimed set. A partition's head that has been the head for longer than the bound is reserved:
 * a node that could ever fit it takes nothing past it in that partition until it fits. Refs without data (removed)
 * are dropped on the way. Same decision as first-fit.ts.
 * Returns: a flat array of id, data pairs for the refs taken.
 */
export const claimScript: RedisScript = {
  name: 'claim',
  source: `
local refs, claimed, prefix = KEYS[1], KEYS[2], ARGV[1]
local free_cpus, free_mem = tonumber(ARGV[2]), tonumber(ARGV[3])
local total_cpus, total_mem = tonumber(ARGV[4]), tonumber(ARGV[5])
local window, max_take, starve_ms = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local idle = free_cpus == total_cpus and free_mem == total_mem

local candidates, reserved = {}, {}
for i = 9, #ARGV do
  local partition = ARGV[i]
  local queue, head_key = prefix .. 'q:' .. partition, prefix .. 'head:' .. partition
  local entries = redis.call('ZRANGE', queue, 0, window - 1, 'WITHSCORES')
  for j = 1, #entries, 2 do
    candidates[#candidates + 1] = { score = tonumber(entries[j + 1]), id = entries[j], queue = queue }
  end
  if #entries > 0 then
    local head = redis.call('HMGET', head_key, 'id', 'since')
    local since = tonumber(head[2])
    if head[1] ~= entries[1] then
      since = now
      redis.call('HSET', head_key, 'id', entries[1], 'since', now)
    end
    if now - since >= starve_ms then reserved[entries[1]] = true end
  end
end
-- Scores are unique: each one holds the job id.
table.sort(candidates, function(a, b) return a.score < b.score end)

local taken, blocked, count = {}, {}, 0
for _, c in ipairs(candidates) do
  if count >= max_take or free_cpus <= 0 then break end
  if not blocked[c.queue] then
    local data = redis.call('HGET', refs, c.id)
    if not data then
      redis.call('ZREM', c.queue, c.id)
    else
      local _, cpus, mem, _, exclusive = string.match(data, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|')
      cpus, mem = tonumber(cpus), tonumber(mem)
      local fits
      if exclusive == '1' then
        fits = idle and cpus <= total_cpus and mem <= total_mem
      else
        fits = cpus <= free_cpus and mem <= free_mem
      end
      if fits then
        redis.call('ZREM', c.queue, c.id)
        redis.call('HSET', claimed, c.id, now)
        if exclusive == '1' then free_cpus, free_mem = 0, 0 else free_cpus, free_mem = free_cpus - cpus, free_mem - mem end
        idle = false
        count = count + 1
        taken[#taken + 1] = c.id
        taken[#taken + 1] = data
      elseif reserved[c.id] and cpus <= total_cpus and mem <= total_mem then
        blocked[c.queue] = true
      end
    end
  end
end
return taken
`,
};
