--[[
  Extends a follow lease to `ms` from now; a lease that lapsed meanwhile is taken again (its stream is still open, so
  it counts).

  KEYS[1]   the holder's leases: sorted set, lease id → expiry (ms since the epoch)

  ARGV[1]   lease id
  ARGV[2]   lease length, ms

  Returns: 1.
]]
--- @include "includes/server-ms.lua"
local leases, id, ms = KEYS[1], ARGV[1], tonumber(ARGV[2])
redis.call('ZADD', leases, server_ms() + ms, id)
if redis.call('PTTL', leases) < ms then redis.call('PEXPIRE', leases, ms) end
return 1
