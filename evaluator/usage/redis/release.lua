-- promoctl usage: give a recorded consume back, atomic.
-- KEYS[1]   idempotency key; KEYS[1+i] the counter of take i
-- ARGV: the record as read, the record marked released, n, then per take:
--       amount, period end ms (0: never ends)
-- Replies: {"not_found"} | {"changed"} | {"released", now, given...}
-- where given lists the takes (1-based) whose periods were still open.
local cur = redis.call('GET', KEYS[1])
if not cur then return {'not_found'} end
if cur ~= ARGV[1] then return {'changed'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[3])
local out = {'released', now}
for i = 1, n do
  local amount = tonumber(ARGV[4 + (i - 1) * 2])
  local stop = tonumber(ARGV[5 + (i - 1) * 2])
  if stop == 0 or now < stop then
    local left = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
    if left > 0 then
      redis.call('DECRBY', KEYS[i + 1], math.min(left, amount))
    end
    out[#out + 1] = i
  end
end
if #out > 2 then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
end
return out
