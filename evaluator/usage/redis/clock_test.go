package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	"github.com/promoctl/promoctl/evaluator/usage/usagetest"
)

// The script's clock is the store's TIME: moving it (miniredis) across
// midnight makes buckets computed before midnight stale, and the buckets
// computed at the store's clock start the new day full.
func TestStoreClockDecidesThePeriod(t *testing.T) {
	m := miniredis.RunT(t)
	beforeMidnight := time.Date(2026, 4, 25, 23, 59, 59, 0, time.UTC)
	m.SetTime(beforeMidnight)
	s := open(t, "redis://"+m.Addr(), redis.Options{})
	ctx := context.Background()

	now, err := s.Now(ctx)
	require.NoError(t, err)
	require.Equal(t, beforeMidnight, now)
	today := usagetest.DayBuckets(now)
	res, err := s.Consume(ctx, usagetest.Consume("k1", 10, today))
	require.NoError(t, err)
	require.Equal(t, usage.OutcomeConsumed, res.Outcome)
	res, err = s.Consume(ctx, usagetest.Consume("k2", 6, today))
	require.NoError(t, err)
	require.Equal(t, usage.OutcomeDenied, res.Outcome, "10 daily + 5 monthly, 10 used")

	m.SetTime(beforeMidnight.Add(time.Second))
	_, err = s.Consume(ctx, usagetest.Consume("k2", 6, today))
	var stale *usage.StaleError
	require.ErrorAs(t, err, &stale, "a sidecar whose clock is still before midnight is told the store's clock")
	assert.Equal(t, beforeMidnight.Add(time.Second), stale.Now)

	res, err = s.Consume(ctx, usagetest.Consume("k2", 6, usagetest.DayBuckets(stale.Now)))
	require.NoError(t, err)
	assert.Equal(t, usage.OutcomeConsumed, res.Outcome, "the new day's 10 are there")
	assert.Equal(t, []int64{6, 0, 0}, res.Used)
}
