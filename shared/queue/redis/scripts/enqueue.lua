--[[
  Queues refs: adds each ref not already held (queued or claimed) to its partition's queue, and publishes the
  partitions that got work on `<prefix>wake`, so that idle nodes on a TCP connection wake at once.

  KEYS[1]   refs hash

  ARGV[1]   key prefix
  ARGV[2..] per ref, 3 values: id, data ("partition|cpus|memoryMb|priority|exclusive|user|timeLimitSeconds|score",
            the score last: redis-job-queue.ts), partition

  Returns: the number of refs added.
]]
local refs, prefix = KEYS[1], ARGV[1]
local added, woken = 0, {}
for i = 2, #ARGV, 3 do
  local id, data, partition = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if redis.call('HSETNX', refs, id, data) == 1 then
    local score = string.match(data, '([^|]+)$')
    redis.call('ZADD', prefix .. 'q:' .. partition, score, id)
    redis.call('SADD', prefix .. 'partitions', partition)
    added = added + 1
    if not woken[partition] then
      woken[partition] = true
      redis.call('PUBLISH', prefix .. 'wake', partition)
    end
  end
end
return added
