package redis_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/valkey-io/valkey-go"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	"github.com/promoctl/promoctl/evaluator/usage/usagetest"
	"github.com/promoctl/promoctl/internal/redistest"
)

func open(t *testing.T, url string, opts redis.Options) *redis.Store {
	t.Helper()
	s, err := redis.Open(url, opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func rawClient(t *testing.T, addr string) valkey.Client {
	t.Helper()
	c, err := valkey.NewClient(valkey.ClientOption{InitAddress: []string{addr}, DisableCache: true})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	for name, check := range map[string]func(*testing.T, usage.Store){
		"idempotency": usagetest.Idempotency, "stale": usagetest.Stale, "replay": usagetest.Replay,
		"replay of an applied consume": usagetest.ReplayOfAnAppliedConsume,
	} {
		t.Run(name, func(t *testing.T) {
			check(t, open(t, srv.URL(), redis.Options{Namespace: name}))
		})
	}
}

func TestKeysShareAHashTagAndExpire(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL(), redis.Options{Namespace: "test", Retention: time.Hour, IdempotencyTTL: time.Minute})
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	b := usagetest.DayBuckets(now)
	_, err = s.Consume(ctx, usagetest.Consume("k", 1, b))
	require.NoError(t, err)

	c := rawClient(t, srv.Addr())
	keys, err := c.Do(ctx, c.B().Keys().Pattern("*").Build()).AsStrSlice()
	require.NoError(t, err)
	require.ElementsMatch(t, []string{
		"{test|cus_001|api_calls}:k:k",
		"{test|cus_001|api_calls}:c:" + b[0].Counter(),
	}, keys)
	counterExpiry, err := c.Do(ctx, c.B().Pexpiretime().Key("{test|cus_001|api_calls}:c:"+b[0].Counter()).Build()).AsInt64()
	require.NoError(t, err)
	assert.Equal(t, b[0].PeriodEnd.Add(time.Hour).UnixMilli(), counterExpiry, "a counter expires at its period end plus the retention")
	ttl, err := c.Do(ctx, c.B().Pttl().Key("{test|cus_001|api_calls}:k:k").Build()).AsInt64()
	require.NoError(t, err)
	assert.InDelta(t, time.Minute.Milliseconds(), ttl, 5000, "an idempotency key lives for the TTL")
}

// The script's arithmetic is usage.Consume's, whatever the layout.
func TestScriptAgreesWithConsume(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv.URL(), redis.Options{})
	c := rawClient(t, srv.Addr())
	ctx := context.Background()
	now, err := s.Now(ctx)
	require.NoError(t, err)
	r := rand.New(rand.NewPCG(3, 4))
	for iter := range 300 {
		sc := usage.Scope{Customer: fmt.Sprintf("c%d", iter), Feature: "f"}
		n := r.IntN(5)
		buckets := make([]usage.Bucket, n)
		used := make([]int64, n)
		for i := range buckets {
			buckets[i] = usage.Bucket{ID: fmt.Sprintf("b%d", i), Allowance: int64(r.IntN(40)), Unlimited: r.IntN(8) == 0,
				PeriodStart: now.Add(-time.Hour).Truncate(time.Second), PeriodEnd: now.Add(time.Duration(1+r.IntN(48)) * time.Hour).Truncate(time.Second),
				Order: r.IntN(4), Suspended: r.IntN(6) == 0}
			used[i] = int64(r.IntN(50))
			if used[i] > 0 {
				require.NoError(t, c.Do(ctx, c.B().Set().Key(s.Tag(sc)+":c:"+buckets[i].Counter()).Value(fmt.Sprint(used[i])).Build()).Error())
			}
		}
		amount := int64(1 + r.IntN(60))
		overage := []usage.Overage{usage.OverageBlock, usage.OverageSoft}[r.IntN(2)]
		want := usage.Consume(buckets, used, amount, overage)
		got, err := s.Consume(ctx, usage.ConsumeRequest{Scope: sc, Key: "k", BodyHash: "h", Amount: amount, Overage: overage, Buckets: buckets})
		require.NoError(t, err)
		if want.Takes == nil {
			want.Takes = []usage.Take{}
		}
		if got.Takes == nil {
			got.Takes = []usage.Take{}
		}
		require.Equal(t, want, got.Plan, "layout %+v used %v amount %d %s", buckets, used, amount, overage)
		for i := range buckets {
			var taken int64
			for _, tk := range got.Takes {
				if tk.Bucket == buckets[i].ID {
					taken += tk.Amount
				}
			}
			require.Equal(t, used[i]+taken, got.Used[i]+boolInt(buckets[i].Suspended)*used[i], "counter of %s", buckets[i].ID)
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func TestOpenRefusesOtherSchemes(t *testing.T) {
	_, err := redis.Open("http://localhost:6379", redis.Options{})
	require.Error(t, err)
	_, err = redis.Open("redis://user:secret@[::1", redis.Options{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
}

// A sidecar starts while its Redis is down: the store answers as
// unavailable, and connects once the server is there.
func TestOpenBeforeTheServerIsUp(t *testing.T) {
	srv := redistest.Start(t)
	srv.Kill()
	s := open(t, srv.URL(), redis.Options{})
	ctx := context.Background()
	b := usagetest.DayBuckets(time.Now().UTC())
	_, err := s.Consume(ctx, usagetest.Consume("k", 1, b))
	require.ErrorIs(t, err, usage.ErrUnavailable)

	srv.Restart()
	require.Eventually(t, func() bool {
		_, err := s.Now(ctx)
		return err == nil
	}, 10*time.Second, 50*time.Millisecond)
	res, err := s.Consume(ctx, usagetest.Consume("k", 1, b))
	require.NoError(t, err)
	assert.Equal(t, usage.OutcomeConsumed, res.Outcome)
}
