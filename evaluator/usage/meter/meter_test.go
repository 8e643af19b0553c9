package meter_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	"github.com/promoctl/promoctl/internal/redistest"
	"github.com/promoctl/promoctl/promotions"
)

// dailySource gives every customer one daily bucket of allowance and the
// feature policy given.
type dailySource struct {
	allowance int64
	policy    promotions.FeatureUsage
}

func (s dailySource) Layout(q meter.Query, at time.Time) (meter.Layout, error) {
	day := at.UTC().Truncate(24 * time.Hour)
	return meter.Layout{
		Buckets:  []usage.Bucket{{ID: "plan:daily", Allowance: s.allowance, PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1)}},
		Info:     []meter.BucketInfo{{Source: "starter", Kind: "plan", Reset: "daily"}},
		Policy:   s.policy,
		Revision: "test",
	}, nil
}

var ctx = context.Background()

func consumeReq(key string, amount int64) meter.ConsumeRequest {
	return meter.ConsumeRequest{Customer: "cus_1", Feature: "api_calls", Amount: amount, IdempotencyKey: key}
}

func TestConsumeAnswer(t *testing.T) {
	store, err := bolt.Open(t.TempDir(), bolt.Options{SweepEvery: -1})
	require.NoError(t, err)
	defer store.Close()
	m := meter.New(dailySource{allowance: 10}, store, meter.Options{})
	defer m.Close()

	a, err := m.Consume(ctx, consumeReq("k1", 4), false)
	require.NoError(t, err)
	assert.Equal(t, "consumed", a.Outcome)
	assert.True(t, a.Allowed)
	assert.Equal(t, int64(6), a.Remaining)
	assert.Equal(t, []meter.Part{{Bucket: "plan:daily", Amount: 4}}, a.From)
	assert.Equal(t, "embedded", a.Store)
	require.NotNil(t, a.NextReset)

	chk, err := m.Consume(ctx, meter.ConsumeRequest{Customer: "cus_1", Feature: "api_calls", Amount: 7}, true)
	require.NoError(t, err)
	assert.False(t, chk.Allowed)
	assert.Equal(t, meter.ReasonQuotaExceeded, chk.Reason)

	dup, err := m.Consume(ctx, consumeReq("k1", 4), false)
	require.NoError(t, err)
	assert.Equal(t, "duplicate", dup.Outcome)
	assert.Equal(t, a.Remaining, dup.Remaining)

	_, err = m.Consume(ctx, consumeReq("k1", 5), false)
	assert.ErrorIs(t, err, usage.ErrKeyReused)

	for _, bad := range []meter.ConsumeRequest{consumeReq("", 1), consumeReq("k", 0), consumeReq("k", usage.MaxAmount+1)} {
		_, err := m.Consume(ctx, bad, false)
		assert.ErrorIs(t, err, meter.ErrInvalid, "%+v", bad)
	}

	u, err := m.Usage(ctx, meter.Query{Customer: "cus_1", Feature: "api_calls"}, time.Time{})
	require.NoError(t, err)
	require.Len(t, u.Buckets, 1)
	assert.Equal(t, int64(4), *u.Buckets[0].Used)
	require.NotNil(t, u.Remaining)
	assert.Equal(t, int64(6), *u.Remaining)

	rel, err := m.Release(ctx, meter.ReleaseRequest{Customer: "cus_1", Feature: "api_calls", IdempotencyKey: "k1"})
	require.NoError(t, err)
	assert.Equal(t, meter.ReleaseAnswer{Outcome: "released", Amount: 4, To: []meter.Part{{Bucket: "plan:daily", Amount: 4}}, Store: "embedded"}, rel)
}

func TestDisabled(t *testing.T) {
	m := meter.New(dailySource{}, nil, meter.Options{})
	_, err := m.Consume(ctx, consumeReq("k", 1), false)
	assert.ErrorIs(t, err, meter.ErrDisabled)
	_, err = m.Usage(ctx, meter.Query{Customer: "c", Feature: "f"}, time.Time{})
	assert.ErrorIs(t, err, meter.ErrDisabled)
}

// The shared store is killed mid-load. Under allow every consume is answered
// (degraded while it is down), spooled, and replayed once it is back: the
// counters then equal what was acknowledged, each key once. Under deny no
// consume is allowed while it is down.
func TestStoreFailure(t *testing.T) {
	for _, policy := range []promotions.StoreFailure{promotions.StoreFailureAllow, promotions.StoreFailureDeny} {
		t.Run(string(policy), func(t *testing.T) {
			srv := redistest.Start(t)
			shared, err := redis.Open(srv.URL(), redis.Options{})
			require.NoError(t, err)
			defer shared.Close()
			local, err := bolt.Open(t.TempDir(), bolt.Options{SweepEvery: -1})
			require.NoError(t, err)
			defer local.Close()
			src := dailySource{allowance: 1 << 40, policy: promotions.FeatureUsage{Overage: promotions.OverageBlock, OnStoreFailure: policy}}
			m := meter.New(src, shared, meter.Options{Spool: local, OpenFor: 100 * time.Millisecond, ReplayEvery: 20 * time.Millisecond})
			defer m.Close()

			var (
				mu           sync.Mutex
				acked        = map[string]int64{}
				degraded     int
				deniedInDown int
				down         bool
				unanswered   = map[string]bool{}
			)
			work := func(phase string, n int) {
				var wg sync.WaitGroup
				for w := range 8 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range n {
							key := fmt.Sprintf("%s-%d-%d", phase, w, i)
							// Every request is sent twice: a retry
							// must never count twice.
							for range 2 {
								a, err := m.Consume(ctx, consumeReq(key, 1), false)
								mu.Lock()
								switch {
								case err == nil && a.Allowed:
									acked[key] = 1
									if a.Degraded {
										degraded++
									}
								default:
									// A 503 leaves the consume
									// unanswered: the client retries
									// it later with the same key.
									unanswered[key] = true
									if down {
										deniedInDown++
									}
								}
								mu.Unlock()
							}
						}
					}()
				}
				wg.Wait()
			}
			work("before", 20)
			srv.Kill()
			mu.Lock()
			down = true
			mu.Unlock()
			work("during", 20)
			srv.Restart()
			mu.Lock()
			down = false
			mu.Unlock()
			time.Sleep(200 * time.Millisecond) // the breaker closes, the spool drains
			work("after", 20)
			require.Eventually(t, func() bool { m.ReplayOnce(ctx); return local.SpoolLen() == 0 }, 10*time.Second, 50*time.Millisecond)
			for key := range unanswered {
				if acked[key] != 0 {
					continue
				}
				require.Eventually(t, func() bool {
					a, err := m.Consume(ctx, consumeReq(key, 1), false)
					if err == nil && a.Allowed {
						acked[key] = 1
						return true
					}
					return false
				}, 10*time.Second, 20*time.Millisecond, "the retry of %s is answered once the store is back", key)
			}

			now, err := shared.Now(ctx)
			require.NoError(t, err)
			lay, _ := src.Layout(meter.Query{}, now)
			used, err := shared.Used(ctx, usage.Scope{Customer: "cus_1", Feature: "api_calls"}, lay.Buckets)
			require.NoError(t, err)
			var sum int64
			for _, n := range acked {
				sum += n
			}
			assert.Equal(t, sum, used[0], "the counter equals what was acknowledged, each key once")
			if policy == promotions.StoreFailureAllow {
				assert.Positive(t, degraded, "consumes during the outage were answered degraded")
				assert.Zero(t, deniedInDown)
			} else {
				assert.Zero(t, degraded)
				assert.Equal(t, 8*20*2, deniedInDown, "no consume is acknowledged while the store is down under deny")
			}
		})
	}
}
