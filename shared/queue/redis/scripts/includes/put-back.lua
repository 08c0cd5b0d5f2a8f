--[[
  Shared by the scripts that return claimed refs to their queues (release, release-stale); `npm run gen:scripts`
  pastes it where a script says `--- @include "includes/put-back.lua"`, as Redis runs each script alone.

  put_back(refs, prefix, id, woken): puts a ref back in its partition's queue with its old score, so it keeps its
  place, and notes the partition in woken. Returns 1, or 0 for a ref without data (removed).
  wake(prefix, woken): publishes each noted partition on `<prefix>wake`, once.
]]
local function put_back(refs, prefix, id, woken)
  local data = redis.call('HGET', refs, id)
  if not data then return 0 end
  local partition = string.match(data, '^([^|]*)|')
  redis.call('ZADD', prefix .. 'q:' .. partition, string.match(data, '([^|]+)$'), id)
  woken[partition] = true
  return 1
end
local function wake(prefix, woken)
  for partition in pairs(woken) do redis.call('PUBLISH', prefix .. 'wake', partition) end
end
