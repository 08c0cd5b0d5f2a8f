import type { RedisScript } from '../redis-script.js';

/**
 * KEYS: 1 refs hash, 2 the node's claimed hash
 * ARGV: job ids
 * Forgets refs the node claimed and the API has confirmed or dropped. A ref that is no longer this node's (it was
 * requeued and claimed elsewhere) is left alone.
 * Returns: the ids forgotten, which were this node's.
 */
export const settleScript: RedisScript = {
  name: 'settle',
  source: `
local refs, claimed, settled = KEYS[1], KEYS[2], {}
for i = 1, #ARGV do
  if redis.call('HDEL', claimed, ARGV[i]) == 1 then
    redis.call('HDEL', refs, ARGV[i])
    settled[#settled + 1] = ARGV[i]
  end
end
return settled
`,
};
