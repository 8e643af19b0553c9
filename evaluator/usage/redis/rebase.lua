-- promoctl usage: make a recorded consume the one its client was answered,
-- atomic. A consume can reach the store while the sidecar's call times out;
-- the sidecar then answers from the allowance alone and spools that answer,
-- whose takes may name other buckets than the store's. The client holds the
-- spooled answer, so the counters follow it.
-- KEYS[1] idempotency key; KEYS[1+i] the counter of recorded take i (i ≤ m);
-- KEYS[1+m+j] the counter of answered take j.
-- ARGV: the record as read, the answered record, retention ms, m, n, then
--       per recorded take: amount; then per answered take: amount, period
--       end ms (0: never ends)
-- Replies: {"changed"} when the record is no longer the one read,
--          {"rebased"} when the counters moved.
local cur = redis.call('GET', KEYS[1])
if cur ~= ARGV[1] then return {'changed'} end
local retention = tonumber(ARGV[3])
local m = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
for i = 1, m do
  local amount = tonumber(ARGV[5 + i])
  local left = tonumber(redis.call('GET', KEYS[1 + i]) or '0')
  if left > 0 then
    redis.call('DECRBY', KEYS[1 + i], math.min(left, amount))
  end
end
for j = 1, n do
  local amount = tonumber(ARGV[5 + m + (j - 1) * 2 + 1])
  local stop = tonumber(ARGV[5 + m + (j - 1) * 2 + 2])
  redis.call('INCRBY', KEYS[1 + m + j], amount)
  if stop > 0 then
    redis.call('PEXPIREAT', KEYS[1 + m + j], stop + retention)
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return {'rebased'}
