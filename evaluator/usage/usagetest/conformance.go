// Package usagetest holds the behaviour every usage store must show, as
// test helpers each store's tests run against a real instance.
package usagetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
)

// Scope is the scope the helpers consume in.
var Scope = usage.Scope{Customer: "cus_001", Feature: "api_calls"}

// DayBuckets are a daily and a monthly bucket holding now, and a suspended
// plan bucket.
func DayBuckets(now time.Time) []usage.Bucket {
	day := now.Truncate(24 * time.Hour)
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	return []usage.Bucket{
		{ID: "promotion:burst:2026-04-20T00:00:00Z", Allowance: 10, PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1), Order: 0},
		{ID: "promotion:boost:2026-04-02T09:00:00Z", Allowance: 5, PeriodStart: month.AddDate(0, -1, 0), PeriodEnd: month.AddDate(0, 1, 0), Order: 1},
		{ID: "plan:monthly", Allowance: 100, PeriodStart: month, PeriodEnd: month.AddDate(0, 1, 0), Order: 2, Suspended: true},
	}
}

// Consume is a block consume of amount under key, its body hash naming the
// amount.
func Consume(key string, amount int64, buckets []usage.Bucket) usage.ConsumeRequest {
	return usage.ConsumeRequest{Scope: Scope, Key: key, BodyHash: fmt.Sprintf("h%d", amount), Amount: amount,
		Overage: usage.OverageBlock, Buckets: buckets}
}

// Idempotency holds a store to the idempotency rules: a duplicate answers
// the first result, another body is refused, a denial is not recorded, a
// release gives back once, a check writes nothing.
func Idempotency(t *testing.T, s usage.Store) {
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	b := DayBuckets(now)

	first, err := s.Consume(ctx, Consume("k1", 12, b))
	require.NoError(t, err)
	assert.Equal(t, usage.OutcomeConsumed, first.Outcome)
	assert.Equal(t, []int64{12 - 2, 2, 0}, []int64{first.Takes[0].Amount, first.Takes[1].Amount, first.Used[2]})
	assert.Equal(t, []int64{10, 2, 0}, first.Used)
	assert.Equal(t, int64(3), first.Remaining)

	t.Run("same key, same body: the first result", func(t *testing.T) {
		again, err := s.Consume(ctx, Consume("k1", 12, b))
		require.NoError(t, err)
		assert.Equal(t, usage.OutcomeDuplicate, again.Outcome)
		assert.Equal(t, first.Takes, again.Takes)
		assert.Equal(t, first.Remaining, again.Remaining)
		used, err := s.Used(ctx, Scope, b)
		require.NoError(t, err)
		assert.Equal(t, []int64{10, 2, 0}, used, "counted once")
	})
	t.Run("same key, other body: refused", func(t *testing.T) {
		_, err := s.Consume(ctx, Consume("k1", 1, b))
		assert.ErrorIs(t, err, usage.ErrKeyReused)
	})
	t.Run("a denial is not recorded", func(t *testing.T) {
		denied, err := s.Consume(ctx, Consume("k2", 4, b))
		require.NoError(t, err)
		assert.Equal(t, usage.OutcomeDenied, denied.Outcome)
		assert.False(t, denied.Allowed)
		assert.Empty(t, denied.Takes)
		ok, err := s.Consume(ctx, Consume("k2", 3, b))
		require.NoError(t, err, "the key of a denial may be used again, with another body")
		assert.Equal(t, usage.OutcomeConsumed, ok.Outcome)
	})
	t.Run("release gives back, once", func(t *testing.T) {
		rel, err := s.Release(ctx, usage.ReleaseRequest{Scope: Scope, Key: "k1"})
		require.NoError(t, err)
		assert.Equal(t, usage.ReleaseReleased, rel.Outcome)
		assert.Equal(t, int64(12), rel.Amount)
		assert.Equal(t, first.Takes, rel.To)
		used, err := s.Used(ctx, Scope, b)
		require.NoError(t, err)
		assert.Equal(t, []int64{0, 3, 0}, used)

		again, err := s.Release(ctx, usage.ReleaseRequest{Scope: Scope, Key: "k1"})
		require.NoError(t, err)
		assert.True(t, again.Again)
		used, err = s.Used(ctx, Scope, b)
		require.NoError(t, err)
		assert.Equal(t, []int64{0, 3, 0}, used, "a second release gives nothing back")

		dup, err := s.Consume(ctx, Consume("k1", 12, b))
		require.NoError(t, err)
		assert.Equal(t, usage.OutcomeDuplicate, dup.Outcome, "a retried consume after its release is still the same consume")
	})
	t.Run("release of an unknown key", func(t *testing.T) {
		rel, err := s.Release(ctx, usage.ReleaseRequest{Scope: Scope, Key: "nope"})
		require.NoError(t, err)
		assert.Equal(t, usage.ReleaseNotFound, rel.Outcome)
	})
	t.Run("check writes nothing", func(t *testing.T) {
		req := Consume("", 2, b)
		req.DryRun = true
		chk, err := s.Consume(ctx, req)
		require.NoError(t, err)
		assert.Equal(t, usage.OutcomeConsumed, chk.Outcome)
		assert.Equal(t, int64(15-3-2), chk.Remaining, "what the consume would leave")
		used, err := s.Used(ctx, Scope, b)
		require.NoError(t, err)
		assert.Equal(t, []int64{0, 3, 0}, used)
	})
}

// Stale holds that buckets not holding at the store's clock are refused
// with the store's clock and record nothing.
func Stale(t *testing.T, s usage.Store) {
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	yesterday := DayBuckets(now.AddDate(0, 0, -1))
	_, err = s.Consume(ctx, Consume("k", 1, yesterday))
	var stale *usage.StaleError
	require.ErrorAs(t, err, &stale)
	assert.WithinDuration(t, now, stale.Now, 5*time.Second)
	used, err := s.Used(ctx, Scope, yesterday)
	require.NoError(t, err)
	assert.Equal(t, []int64{0, 0, 0}, used, "nothing recorded")
	_, err = s.Release(ctx, usage.ReleaseRequest{Scope: Scope, Key: "k"})
	require.NoError(t, err)
}

// Replay holds that a replayed consume counts once and makes its key a
// duplicate.
func Replay(t *testing.T, s usage.Store) {
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	b := DayBuckets(now)
	plan := usage.Consume(b, nil, 3, usage.OverageBlock)
	rec := usage.Recorded{BodyHash: "h3", Outcome: plan.Outcome, Amount: 3, Takes: plan.Takes, At: now}
	added, err := s.Replay(ctx, Scope, "spooled", rec)
	require.NoError(t, err)
	assert.True(t, added)
	added, err = s.Replay(ctx, Scope, "spooled", rec)
	require.NoError(t, err)
	assert.False(t, added, "a second replay of the same key adds nothing")
	dup, err := s.Consume(ctx, Consume("spooled", 3, b))
	require.NoError(t, err)
	assert.Equal(t, usage.OutcomeDuplicate, dup.Outcome, "a retry of the replayed consume is a duplicate")
	used, err := s.Used(ctx, Scope, b)
	require.NoError(t, err)
	assert.Equal(t, []int64{3, 0, 0}, used)
}

// ReplayOfAnAppliedConsume holds that a spooled consume which had reached
// the store (its call timed out after the store took it from other buckets
// than the degraded answer said) ends with the counters and the key's
// record following the answer the client was given, counted once.
func ReplayOfAnAppliedConsume(t *testing.T, s usage.Store) {
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	b := DayBuckets(now)
	_, err = s.Consume(ctx, Consume("earlier", 10, b))
	require.NoError(t, err)
	applied, err := s.Consume(ctx, Consume("late", 2, b))
	require.NoError(t, err)
	require.Equal(t, []usage.Take{{Bucket: b[1].ID, PeriodStart: b[1].PeriodStart, PeriodEnd: b[1].PeriodEnd, Amount: 2}}, applied.Takes,
		"the store took from the second bucket: the first was used up")
	// The degraded answer, from the allowance alone, took from the first.
	answered := usage.Consume(b, nil, 2, usage.OverageBlock)
	rec := usage.Recorded{BodyHash: "h2", Outcome: answered.Outcome, Amount: 2, Takes: answered.Takes, At: now}

	for range 2 {
		added, err := s.Replay(ctx, Scope, "late", rec)
		require.NoError(t, err)
		assert.False(t, added, "the consume is counted once")
	}
	used, err := s.Used(ctx, Scope, b)
	require.NoError(t, err)
	assert.Equal(t, []int64{12, 0, 0}, used, "the counters follow the answered takes")
	dup, err := s.Consume(ctx, Consume("late", 2, b))
	require.NoError(t, err)
	assert.Equal(t, usage.OutcomeDuplicate, dup.Outcome)
	assert.Equal(t, answered.Takes, dup.Takes, "a retry answers what the client was answered")
}
