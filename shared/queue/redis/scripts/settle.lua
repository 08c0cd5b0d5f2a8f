--[[
  Forgets refs the node claimed and the API has confirmed or dropped. A ref that is no longer this node's (it was
  requeued and claimed elsewhere) is left alone.

  KEYS[1]   refs hash
  KEYS[2]   the node's claimed hash

  ARGV[1]   key prefix
  ARGV[2]   node
  ARGV[3..] job ids

  Returns: the ids forgotten, which were this node's.
]]
local refs, claimed, claims, node, settled = KEYS[1], KEYS[2], ARGV[1] .. 'claims', ARGV[2], {}
for i = 3, #ARGV do
  if redis.call('HDEL', claimed, ARGV[i]) == 1 then
    redis.call('HDEL', refs, ARGV[i])
    redis.call('ZREM', claims, node .. '|' .. ARGV[i])
    settled[#settled + 1] = ARGV[i]
  end
end
return settled
