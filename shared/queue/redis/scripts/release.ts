import type { RedisScript } from '../redis-script.js';

/**
 * KEYS: 1 refs hash, 2 the node's claimed hash
 * ARGV: 1 key prefix, 2.. job ids; with no ids, every ref the node holds (the node is gone)
 * Puts claimed refs back in their partition's queue with their old score, so they keep their place.
 * Returns: the number of refs put back.
 */
export const releaseScript: RedisScript = {
  name: 'release',
  source: `
local refs, claimed, prefix = KEYS[1], KEYS[2], ARGV[1]
local ids = {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('HKEYS', claimed)
end
local released = 0
for _, id in ipairs(ids) do
  if redis.call('HDEL', claimed, id) == 1 then
    local data = redis.call('HGET', refs, id)
    if data then
      local partition = string.match(data, '^([^|]*)|')
      local score = string.match(data, '([^|]+)$')
      redis.call('ZADD', prefix .. 'q:' .. partition, score, id)
      redis.call('PUBLISH', prefix .. 'wake', partition)
      released = released + 1
    end
  end
end
return released
`,
};
