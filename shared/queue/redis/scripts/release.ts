import type { RedisScript } from '../redis-script.js';
import { PUT_BACK_LUA } from './put-back.js';

/**
 * KEYS: 1 refs hash, 2 the node's claimed hash
 * ARGV: 1 key prefix, 2 node, 3.. job ids; with no ids, every ref the node holds (the node is gone)
 * Puts claimed refs back in their partition's queue with their old score, so they keep their place, and wakes the
 * partitions that got work back.
 * Returns: the number of refs put back.
 */
export const releaseScript: RedisScript = {
  name: 'release',
  source: `${PUT_BACK_LUA}
local refs, claimed, prefix, node = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local ids = {}
if #ARGV > 2 then
  for i = 3, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('HKEYS', claimed)
end
local released, woken = 0, {}
for _, id in ipairs(ids) do
  if redis.call('HDEL', claimed, id) == 1 then
    redis.call('ZREM', prefix .. 'claims', node .. '|' .. id)
    released = released + put_back(refs, prefix, id, woken)
  end
end
wake(prefix, woken)
return released
`,
};
