--[[
  Takes refs out of their queues and forgets them. A claimed one stays in its node's claimed set until the node's
  confirm drops it; without its data it can never be put back.

  KEYS[1]   refs hash

  ARGV[1]   key prefix
  ARGV[2..] job ids

  Returns: the number of refs removed.
]]
local refs, prefix, removed = KEYS[1], ARGV[1], 0
for i = 2, #ARGV do
  local data = redis.call('HGET', refs, ARGV[i])
  if data then
    local partition = string.match(data, '^([^|]*)|')
    redis.call('ZREM', prefix .. 'q:' .. partition, ARGV[i])
    redis.call('HDEL', refs, ARGV[i])
    removed = removed + 1
  end
end
return removed
