-- promoctl usage: record, once, a consume answered while the store was
-- unreachable. KEYS[1] idempotency key; KEYS[1+i] the counter of take i.
-- ARGV: record, idempotency TTL ms, retention ms, n, then per take: amount,
--       period end ms (0: never ends)
-- Replies: {"dup", record} when the key is already recorded (the consume
-- reached the store before it failed), {"ok"} when the takes were added.
local cur = redis.call('GET', KEYS[1])
if cur then return {'dup', cur} end
local retention = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
for i = 1, n do
  local amount = tonumber(ARGV[5 + (i - 1) * 2])
  local stop = tonumber(ARGV[6 + (i - 1) * 2])
  redis.call('INCRBY', KEYS[i + 1], amount)
  if stop > 0 then
    redis.call('PEXPIREAT', KEYS[i + 1], stop + retention)
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return {'ok'}
