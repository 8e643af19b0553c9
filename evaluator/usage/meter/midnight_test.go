package meter_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	"github.com/promoctl/promoctl/promotions"
)

// Two sidecars whose clocks are seconds apart — one still before midnight,
// one already after — consume a daily allowance from one store while the
// store's clock passes midnight. Each consume lands in the day of the
// store's clock, so no day gives more than its allowance, and the counters
// equal what was acknowledged per day.
func TestClocksApartAtMidnight(t *testing.T) {
	m := miniredis.RunT(t)
	midnight := time.Date(2026, 4, 26, 0, 0, 0, 0, time.UTC)
	m.SetTime(midnight.Add(-500 * time.Millisecond))
	store, err := redis.Open("redis://"+m.Addr(), redis.Options{})
	require.NoError(t, err)
	defer store.Close()

	const allowance = 40
	src := dailySource{allowance: allowance, policy: promotions.FeatureUsage{Overage: promotions.OverageBlock, OnStoreFailure: promotions.StoreFailureDeny}}
	behind := func() time.Time { return midnight.Add(-3 * time.Second) }
	ahead := func() time.Time { return midnight.Add(2 * time.Second) }
	sidecars := []*meter.Meter{
		meter.New(src, store, meter.Options{Clock: behind, Timeout: time.Second}),
		meter.New(src, store, meter.Options{Clock: ahead, Timeout: time.Second}),
	}
	for _, s := range sidecars {
		defer s.Close()
	}

	var (
		mu     sync.Mutex
		perDay = map[string]int64{}
		seq    atomic.Int64
		wg     sync.WaitGroup
	)
	consumeAll := func() {
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sc := sidecars[w%2]
				for range 10 {
					key := fmt.Sprintf("k%d", seq.Add(1))
					a, err := sc.Consume(ctx, consumeReq(key, 1), false)
					if !assert.NoError(t, err) {
						return
					}
					if a.Allowed && assert.NotNil(t, a.NextReset) {
						day := a.NextReset.AddDate(0, 0, -1).Format(time.DateOnly)
						mu.Lock()
						perDay[day]++
						mu.Unlock()
					}
				}
			}()
		}
	}
	consumeAll()
	wg.Wait()
	m.SetTime(midnight.Add(500 * time.Millisecond))
	consumeAll()
	wg.Wait()

	assert.Equal(t, map[string]int64{"2026-04-25": allowance, "2026-04-26": allowance}, perDay,
		"each day gave exactly its allowance, whichever sidecar's clock")
	for day, n := range perDay {
		start, _ := time.Parse(time.DateOnly, day)
		used, err := store.Used(ctx, usage.Scope{Customer: "cus_1", Feature: "api_calls"},
			[]usage.Bucket{{ID: "plan:daily", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 1)}})
		require.NoError(t, err)
		assert.Equal(t, n, used[0], "the counter of %s equals what was acknowledged", day)
	}
}
