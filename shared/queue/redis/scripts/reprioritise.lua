--[[
  Gives refs a new priority (the priority recompute): each held ref's data gets the new priority and score, and a
  queued one moves to that score in its partition's queue (ZADD XX: a ref that is not queued is never added, so a
  claimed one stays claimed, and release puts it back at its new place from its data). Refs not held are skipped.
  Only the priority (the 4th field) and the score (the last) are rewritten: fields between them stay as they are.

  KEYS[1]   refs hash

  ARGV[1]   key prefix
  ARGV[2..] per ref, 3 values: id, priority, score (submit order − priority × 2^33, computed by the caller: Lua's
            tostring would round a number this large)

  Returns: the number of queued refs moved.
]]
local refs, prefix, moved = KEYS[1], ARGV[1], 0
for i = 2, #ARGV, 3 do
  local id, priority, score = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local data = redis.call('HGET', refs, id)
  if data then
    local fields = {}
    for field in string.gmatch(data .. '|', '([^|]*)|') do fields[#fields + 1] = field end
    fields[4] = priority
    fields[#fields] = score
    redis.call('HSET', refs, id, table.concat(fields, '|'))
    moved = moved + redis.call('ZADD', prefix .. 'q:' .. fields[1], 'XX', 'CH', score, id)
  end
end
return moved
