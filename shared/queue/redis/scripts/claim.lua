--[[
  Claims for one node the queued refs it runs (their owner, shared/protocol/runs-as.ts) that fit what it has free:
  first fit in (priority desc, submit order) across the node's partitions. Same decision as first-fit.ts; the
  conformance suite holds both to it.

  Walks the partitions' queues at most `window` refs deep in each, and takes the first refs that fit what is still
  free (an exclusive ref only on an idle node, and it takes the whole node), moving them to the node's claimed set.
  A partition's head that has been the head for longer than the bound is reserved: a node that could ever fit it
  holds it for itself. Past it, the node takes only backfill: refs that fit now and whose time limit ends before the
  head's earliest start there (the shadow time: the running jobs, and those taken in this claim, end by their limits
  soonest first until the head fits; an exclusive head needs all to end), as first-fit.ts and shadow-time.ts. With
  backfill off, the node's running jobs unknown, or the head waiting on an UNLIMITED one, the head ends the claim: the
  node takes nothing queued after it, from any partition, until it fits. A ref the node does not run is passed over
  as if absent: it stays queued for another node, and never holds this one back. Paused partitions (`<prefix>paused`,
  DOWN or INACTIVE) are not read at all: their refs stay queued. Refs without data (removed) are dropped on the way.
  Each queue is read in chunks, the first just big enough for `max refs`, so that a claim for one ref reads a few
  entries, not the whole window. Every claim is also noted in `<prefix>claims` by time, for release-stale.

  KEYS[1]   refs hash
  KEYS[2]   the node's claimed hash (`<prefix>claimed:<node>`: the node's name is its last part)

  ARGV[1]   key prefix
  ARGV[2]   free cpus
  ARGV[3]   free memory MB
  ARGV[4]   total cpus
  ARGV[5]   total memory MB
  ARGV[6]   window: how deep into each queue to look
  ARGV[7]   the most refs to take
  ARGV[8]   starvation bound, ms
  ARGV[9]   runs any owner's jobs: '1' or '0'
  ARGV[10]  runs jobs naming no user: '1' or '0'
  ARGV[11]  the owners whose jobs it runs, comma-separated (login names hold no comma), maybe empty
  ARGV[12]  backfill: '1' on, '0' off
  ARGV[13]  the node's running jobs: '?' unknown, else space-separated "cpus,memoryMb,endsInMs" ('u' for UNLIMITED)
  ARGV[14..] the node's partitions

  Returns: a flat array of id, data pairs for the refs taken.
]]
local refs, claimed, prefix = KEYS[1], KEYS[2], ARGV[1]
local node = string.match(claimed, ':([^:]*)$')
local free_cpus, free_mem = tonumber(ARGV[2]), tonumber(ARGV[3])
local total_cpus, total_mem = tonumber(ARGV[4]), tonumber(ARGV[5])
local window, max_take, starve_ms = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local idle = free_cpus == total_cpus and free_mem == total_mem
local any_user, unnamed = ARGV[9] == '1', ARGV[10] == '1'
local users = {}
for user in string.gmatch(ARGV[11], '[^,]+') do users[user] = true end
local backfill = ARGV[12] == '1'
-- What runs, and what this claim starts: a reserved head waits on both. nil: unknown, no backfill.
local running
if ARGV[13] ~= '?' then
  running = {}
  for c, m, e in string.gmatch(ARGV[13], '(%d+),(%d+),(%w+)') do
    running[#running + 1] = { cpus = tonumber(c), mem = tonumber(m), ends = tonumber(e) }
  end
end

-- A ref's data: "partition|cpus|memoryMb|priority|exclusive|user|timeLimitSeconds|score", or without the time limit
-- (pushed before backfill: UNLIMITED), or without the user too (pushed before owners existed: those jobs name none).
-- Answers its cpus, memory, exclusive flag, owner ('' for none) and time limit in seconds (nil: UNLIMITED).
local function fields(data)
  local parts = {}
  for field in string.gmatch(data, '([^|]*)|') do parts[#parts + 1] = field end
  local user = ''
  if #parts >= 6 then user = parts[6] end
  return tonumber(parts[2]), tonumber(parts[3]), parts[5], user, tonumber(parts[7] or '')
end

-- The reserved head's earliest start here, ms from now (shadow-time.ts), or nil when none can be computed.
local function shadow_ms(cpus, mem, exclusive, have_cpus, have_mem)
  if exclusive == '1' then cpus, mem = total_cpus, total_mem end
  local by_end = {}
  for i, job in ipairs(running) do by_end[i] = job end
  -- UNLIMITED last: reaching one means the head waits on it.
  table.sort(by_end, function(a, b) return (a.ends or math.huge) < (b.ends or math.huge) end)
  local at = 0
  for _, job in ipairs(by_end) do
    if have_cpus >= cpus and have_mem >= mem then return at end
    if not job.ends then return nil end
    have_cpus, have_mem = have_cpus + job.cpus, have_mem + job.mem
    at = math.max(at, job.ends)
  end
  if have_cpus >= cpus and have_mem >= mem then return at end
  return nil
end

local function runs(user)
  if user == '' then return unnamed end
  return any_user or users[user] == true
end

-- One cursor per partition: a buffer of entries read, how far into the queue, and how many of those were removed
-- (removals shift the ranks of what comes after).
local parts, named = {}, {}
for i = 14, #ARGV do
  if not named[ARGV[i]] and redis.call('SISMEMBER', prefix .. 'paused', ARGV[i]) == 0 then
    named[ARGV[i]] = true
    parts[#parts + 1] = {
      queue = prefix .. 'q:' .. ARGV[i], head_key = prefix .. 'head:' .. ARGV[i],
      buf = {}, pos = 1, seen = 0, removed = 0, more = true,
      chunk = math.min(window, math.max(max_take, 4)),
    }
  end
end
local merge = #parts > 1

local function refill(p)
  local want = math.min(p.chunk, window - p.seen)
  p.buf, p.pos = {}, 1
  if want <= 0 then p.more = false return end
  local start = p.seen - p.removed
  if merge then
    local entries = redis.call('ZRANGE', p.queue, start, start + want - 1, 'WITHSCORES')
    for j = 1, #entries, 2 do p.buf[#p.buf + 1] = { id = entries[j], score = tonumber(entries[j + 1]) } end
  else
    for _, id in ipairs(redis.call('ZRANGE', p.queue, start, start + want - 1)) do p.buf[#p.buf + 1] = { id = id } end
  end
  p.seen = p.seen + #p.buf
  if #p.buf < want then p.more = false end
  p.chunk = p.chunk * 2
end

-- The head of each partition, and whether it has waited past the bound.
local reserved = {}
for _, p in ipairs(parts) do
  refill(p)
  local first = p.buf[1]
  if first then
    local head = redis.call('HMGET', p.head_key, 'id', 'since')
    local since = tonumber(head[2])
    if head[1] ~= first.id then
      since = now
      redis.call('HSET', p.head_key, 'id', first.id, 'since', now)
    end
    if now - since >= starve_ms then reserved[first.id] = true end
  end
end

local taken, count = {}, 0
-- Past a reserved head: only refs that end by this (ms from now) may still start. nil: no head passed yet.
local backfill_until
while count < max_take and free_cpus > 0 do
  local best
  for _, p in ipairs(parts) do
    if p.pos > #p.buf and p.more then refill(p) end
    local c = p.buf[p.pos]
    if c and (not best or c.score < best.buf[best.pos].score) then best = p end
  end
  if not best then break end
  local c = best.buf[best.pos]
  best.pos = best.pos + 1
  local data = redis.call('HGET', refs, c.id)
  if not data then
    redis.call('ZREM', best.queue, c.id)
    best.removed = best.removed + 1
  else
    local cpus, mem, exclusive, user, limit = fields(data)
    local fits
    if not runs(user) then
      fits = false
    elseif exclusive == '1' then
      fits = idle and cpus <= total_cpus and mem <= total_mem
    else
      fits = cpus <= free_cpus and mem <= free_mem
    end
    local in_time = backfill_until == nil or (limit ~= nil and limit * 1000 <= backfill_until)
    if fits and in_time then
      redis.call('ZREM', best.queue, c.id)
      best.removed = best.removed + 1
      redis.call('HSET', claimed, c.id, now)
      redis.call('ZADD', prefix .. 'claims', now, node .. '|' .. c.id)
      if running then
        local ends = limit and limit * 1000
        if exclusive == '1' then
          running[#running + 1] = { cpus = total_cpus, mem = total_mem, ends = ends }
        else
          running[#running + 1] = { cpus = cpus, mem = mem, ends = ends }
        end
      end
      if exclusive == '1' then free_cpus, free_mem = 0, 0 else free_cpus, free_mem = free_cpus - cpus, free_mem - mem end
      idle = false
      count = count + 1
      taken[#taken + 1] = c.id
      taken[#taken + 1] = data
    elseif not fits and reserved[c.id] and runs(user) and cpus <= total_cpus and mem <= total_mem then
      local shadow
      if backfill and running then shadow = shadow_ms(cpus, mem, exclusive, free_cpus, free_mem) end
      if shadow == nil then break end
      if backfill_until == nil or shadow < backfill_until then backfill_until = shadow end
    end
  end
end
return taken
