--[[
  Puts claimed refs back in their partition's queue with their old score, so they keep their place, and wakes the
  partitions that got work back.

  KEYS[1]   refs hash
  KEYS[2]   the node's claimed hash

  ARGV[1]   key prefix
  ARGV[2]   node
  ARGV[3..] job ids; with none, every ref the node holds (the node is gone)

  Returns: the number of refs put back.
]]
--- @include "includes/put-back.lua"
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
