--[[
  Takes a follow lease for one holder (a token) if it holds fewer than `max` live ones (issue 12, item 7). Leases
  that lapsed (a crashed API process or Worker isolate never released them) are dropped first, so they free their
  slots. Times are the Redis server's clock, the one clock every API process shares.

  KEYS[1]   the holder's leases: sorted set, lease id → expiry (ms since the epoch)

  ARGV[1]   lease id
  ARGV[2]   max live leases
  ARGV[3]   lease length, ms

  Returns: {1, 0} taken; or {0, ms until the soonest live lease lapses}.
]]
--- @include "includes/server-ms.lua"
local leases, id, max, ms = KEYS[1], ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = server_ms()
redis.call('ZREMRANGEBYSCORE', leases, '-inf', now)
if redis.call('ZCARD', leases) >= max then
  local soonest = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  return {0, tonumber(soonest[2]) - now}
end
redis.call('ZADD', leases, now + ms, id)
if redis.call('PTTL', leases) < ms then redis.call('PEXPIRE', leases, ms) end
return {1, 0}
