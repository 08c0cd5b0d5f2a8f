--[[
  Puts back the refs claimed longer ago than the age and never settled (`<prefix>claims` holds "node|id" by claim
  time), with their old score, and wakes their partitions.

  KEYS[1]   refs hash

  ARGV[1]   key prefix
  ARGV[2]   age, ms
  ARGV[3]   the most claims to look at

  Returns: the number of refs put back.
]]
--- @include "includes/put-back.lua"
local refs, prefix = KEYS[1], ARGV[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local stale = redis.call('ZRANGEBYSCORE', prefix .. 'claims', '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, tonumber(ARGV[3]))
local released, woken = 0, {}
for _, claim in ipairs(stale) do
  local node, id = string.match(claim, '^(.*)|([^|]*)$')
  redis.call('ZREM', prefix .. 'claims', claim)
  if redis.call('HDEL', prefix .. 'claimed:' .. node, id) == 1 then
    released = released + put_back(refs, prefix, id, woken)
  end
end
wake(prefix, woken)
return released
