-- promoctl usage: one consume (or check) of one customer's feature, atomic.
-- KEYS[1]   idempotency key          {ns|customer|feature}:k:<key>
-- KEYS[1+i] counter of bucket i      {ns|customer|feature}:c:<bucket>@<period start>
-- ARGV: op ("consume"|"check"), body hash, amount, soft (1|0),
--       idempotency TTL ms, retention ms, n, then per bucket, in
--       consumption order: id, allowance (-1: unlimited), period start ms,
--       period end ms (0: never ends).
-- Replies: {"reused"} | {"dup", record} | {"stale", now}
--        | {"denied"|"check", now, used...} | {"ok", now, record, used...}
-- The arithmetic is evaluator/usage.Consume's; a test holds them equal.
local op = ARGV[1]
local hash = ARGV[2]
local amount = tonumber(ARGV[3])
local soft = ARGV[4] == '1'
local ttl = tonumber(ARGV[5])
local retention = tonumber(ARGV[6])
local n = tonumber(ARGV[7])

if op == 'consume' then
  local rec = redis.call('GET', KEYS[1])
  if rec then
    if string.match(rec, '^([^|]*)') ~= hash then
      return {'reused'}
    end
    return {'dup', rec}
  end
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local ids, allow, starts, ends, used = {}, {}, {}, {}, {}
for i = 1, n do
  local b = 7 + (i - 1) * 4
  ids[i] = ARGV[b + 1]
  allow[i] = tonumber(ARGV[b + 2])
  starts[i] = tonumber(ARGV[b + 3])
  ends[i] = tonumber(ARGV[b + 4])
  if now < starts[i] or (ends[i] > 0 and now >= ends[i]) then
    return {'stale', now}
  end
  used[i] = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
end

local function reply(status)
  local out = {status, now}
  for i = 1, n do out[#out + 1] = used[i] end
  return out
end

if op == 'check' or n == 0 then
  if op == 'check' then return reply('check') end
  return reply('denied')
end

local takes = {}
local overage = 0
local unlimited = 0
for i = 1, n do
  if allow[i] < 0 then unlimited = i break end
end
if unlimited > 0 then
  takes[1] = {unlimited, amount}
else
  local left = amount
  for i = 1, n do
    local rem = allow[i] - used[i]
    if rem < 0 then rem = 0 end
    local take = math.min(rem, left)
    if take > 0 then
      takes[#takes + 1] = {i, take}
      left = left - take
    end
    if left == 0 then break end
  end
  if left > 0 then
    if not soft then return reply('denied') end
    overage = left
    if #takes > 0 and takes[#takes][1] == n then
      takes[#takes][2] = takes[#takes][2] + left
    else
      takes[#takes + 1] = {n, left}
    end
  end
end

for _, tk in ipairs(takes) do
  local i = tk[1]
  used[i] = redis.call('INCRBY', KEYS[i + 1], tk[2])
  if ends[i] > 0 then
    redis.call('PEXPIREAT', KEYS[i + 1], ends[i] + retention)
  end
end

local remaining = 0
if unlimited == 0 then
  for i = 1, n do
    if allow[i] > used[i] then remaining = remaining + allow[i] - used[i] end
  end
end
local outcome = 'consumed'
if overage > 0 then outcome = 'consumed_over' end
local unl = 0
if unlimited > 0 then unl = 1 end
local rec = string.format('%s|%s|%d|%d|%d|%d|%d|0', hash, outcome, amount, overage, remaining, unl, now)
for _, tk in ipairs(takes) do
  local i = tk[1]
  rec = rec .. string.format('|%s|%d|%d|%d', ids[i], starts[i], ends[i], tk[2])
end
redis.call('SET', KEYS[1], rec, 'PX', ttl)
local out = {'ok', now, rec}
for i = 1, n do out[#out + 1] = used[i] end
return out
