import type { RedisScript } from '../redis-script.js';

/**
 * KEYS: 1 refs hash
 * ARGV: 1 key prefix, 2 age in ms, 3 the most claims to look at
 * Puts back the refs claimed longer ago than the age and never settled (`<prefix>claims` holds "node|id" by claim
 * time), with their old score, and wakes their partitions.
 * Returns: the number of refs put back.
 */
export const releaseStaleScript: RedisScript = {
  name: 'release-stale',
  source: `
local refs, prefix = KEYS[1], ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local stale = redis.call('ZRANGEBYSCORE', prefix .. 'claims', '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]))
local released, woken = 0, {}
for _, claim in ipairs(stale) do
  local node, id = string.match(claim, '^(.*)|([^|]*)$')
  redis.call('ZREM', prefix .. 'claims', claim)
  if redis.call('HDEL', prefix .. 'claimed:' .. node, id) == 1 then
    local data = redis.call('HGET', refs, id)
    if data then
      local partition = string.match(data, '^([^|]*)|')
      redis.call('ZADD', prefix .. 'q:' .. partition, string.match(data, '([^|]+)$'), id)
      woken[partition] = true
      released = released + 1
    end
  end
end
for partition in pairs(woken) do redis.call('PUBLISH', prefix .. 'wake', partition) end
return released
`,
};
