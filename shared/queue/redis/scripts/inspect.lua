--[[
  Answers what the queue holds. depth: the number of queued refs per partition. missing: the given ids the queue
  holds no ref for.

  KEYS[1]   refs hash

  ARGV[1]   key prefix
  ARGV[2]   "depth" or "missing"
  ARGV[3..] job ids (for "missing")

  Returns: depth: a flat array of partition, count pairs; missing: the ids.
]]
local refs, prefix, what = KEYS[1], ARGV[1], ARGV[2]
local out = {}
if what == 'depth' then
  for _, partition in ipairs(redis.call('SMEMBERS', prefix .. 'partitions')) do
    out[#out + 1] = partition
    out[#out + 1] = redis.call('ZCARD', prefix .. 'q:' .. partition)
  end
else
  for i = 3, #ARGV do
    if redis.call('HEXISTS', refs, ARGV[i]) == 0 then out[#out + 1] = ARGV[i] end
  end
end
return out
