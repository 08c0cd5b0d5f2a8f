--[[
  Gives a follow lease back: its stream ended.

  KEYS[1]   the holder's leases: sorted set, lease id → expiry (ms since the epoch)

  ARGV[1]   lease id

  Returns: 1 if it was held, else 0.
]]
return redis.call('ZREM', KEYS[1], ARGV[1])
