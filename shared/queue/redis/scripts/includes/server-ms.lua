-- The Redis server's clock in whole ms. Allowed before writes since Redis 5 (scripts replicate their effects).
local function server_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
