--[[
  Replaces the set of paused partitions (`<prefix>paused`, DOWN or INACTIVE), whose refs claim.lua does not take, and
  publishes each partition taken out of it on `<prefix>wake`: its refs, still queued, are claimable again, and idle
  nodes should not wait out their backoff to find them.

  KEYS[1]   the paused set (`<prefix>paused`)

  ARGV[1]   key prefix
  ARGV[2..] the partitions paused from now on (maybe none)

  Returns: the number of partitions paused.
]]
local paused, prefix = KEYS[1], ARGV[1]
local now = {}
for i = 2, #ARGV do now[ARGV[i]] = true end
for _, partition in ipairs(redis.call('SMEMBERS', paused)) do
  if not now[partition] then redis.call('PUBLISH', prefix .. 'wake', partition) end
end
redis.call('DEL', paused)
local count = 0
for partition in pairs(now) do
  redis.call('SADD', paused, partition)
  count = count + 1
end
return count
