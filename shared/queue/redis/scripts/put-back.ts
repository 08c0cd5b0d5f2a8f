/**
 * Lua shared by the scripts that return claimed refs to their queues (release, release-stale): a ref goes back to its
 * partition's queue with its old score, so it keeps its place, and each partition that got work back is woken once.
 * Interpolated into each script's source, as a script runs alone.
 */
export const PUT_BACK_LUA = `
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
`;
