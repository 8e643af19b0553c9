package meter_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	"github.com/promoctl/promoctl/evaluator/usage/usagetest"
	"github.com/promoctl/promoctl/internal/redistest"
	"github.com/promoctl/promoctl/promotions"
)

// layoutSource gives each customer its own buckets.
type layoutSource map[string][]usage.Bucket

func (s layoutSource) Layout(q meter.Query, _ time.Time) (meter.Layout, error) {
	return meter.Layout{Buckets: s[q.Customer], Policy: promotions.FeatureUsage{Overage: promotions.OverageBlock, OnStoreFailure: promotions.StoreFailureDeny}, Revision: "r"}, nil
}

// randomLayouts gives n customers 1 to 4 buckets each, with random
// allowances, periods holding now and an occasional suspended or unlimited
// bucket.
func randomLayouts(r *rand.Rand, n int, now time.Time) layoutSource {
	out := layoutSource{}
	for c := range n {
		var bs []usage.Bucket
		for i := range 1 + r.IntN(4) {
			bs = append(bs, usage.Bucket{
				ID:          fmt.Sprintf("promotion:p%d:2026-01-01T00:00:00Z", i),
				Allowance:   int64(5 + r.IntN(40)),
				Unlimited:   r.IntN(20) == 0,
				PeriodStart: now.Add(-time.Hour).Truncate(time.Second),
				PeriodEnd:   now.Add(time.Duration(2+r.IntN(40)) * time.Hour).Truncate(time.Second),
				Order:       i + 1,
				Suspended:   r.IntN(8) == 0,
			})
		}
		out[fmt.Sprintf("cus_%d", c)] = bs
	}
	return out
}

// RunConsumers has k clients spread over the meters consume random amounts
// for random customers, each request retried until answered and a quarter
// of them sent again after their answer, and returns the history.
func runConsumers(t *testing.T, meters []meter.Client, layouts layoutSource, k, perClient int, seed uint64) []usagetest.Op {
	var (
		mu  sync.Mutex
		ops []usagetest.Op
		wg  sync.WaitGroup
	)
	customers := make([]string, 0, len(layouts))
	for c := range layouts {
		customers = append(customers, c)
	}
	for client := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, uint64(client)))
			m := meters[client%len(meters)]
			for i := range perClient {
				req := meter.ConsumeRequest{Customer: customers[r.IntN(len(customers))], Feature: "api_calls",
					Amount: int64(1 + r.IntN(6)), IdempotencyKey: fmt.Sprintf("c%d-%d", client, i)}
				for send := range 1 + boolInt(r.IntN(4) == 0) {
					_ = send
					op := usagetest.Op{Client: client, Customer: req.Customer, Key: req.IdempotencyKey, Amount: req.Amount, Call: time.Now()}
					var a meter.Answer
					deadline := time.Now().Add(20 * time.Second)
					for {
						var err error
						a, err = m.Consume(ctx, req, false)
						if err == nil {
							break
						}
						if time.Now().After(deadline) {
							t.Errorf("consume %s never answered: %v", req.IdempotencyKey, err)
							return
						}
						time.Sleep(5 * time.Millisecond)
					}
					op.Return = time.Now()
					op.Allowed, op.Duplicate = a.Allowed, a.Outcome == string(usage.OutcomeDuplicate)
					op.From = map[string]int64{}
					for _, p := range a.From {
						op.From[p.Bucket] += p.Amount
					}
					mu.Lock()
					ops = append(ops, op)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return ops
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CheckBalances holds, per customer and bucket, that the counter equals the
// sum of the first answers of each key that took something, and that no
// bucket gave more than its allowance.
func checkBalances(t *testing.T, store usage.Store, layouts layoutSource, ops []usagetest.Op) {
	t.Helper()
	// A key's application is its earliest allowed answer: its repeats
	// are duplicates of it.
	firsts := map[string]usagetest.Op{}
	for _, op := range ops {
		if prev, ok := firsts[op.Customer+"|"+op.Key]; op.Allowed && (!ok || op.Call.Before(prev.Call)) {
			firsts[op.Customer+"|"+op.Key] = op
		}
	}
	acked := map[string]map[string]int64{}
	for _, op := range firsts {
		if acked[op.Customer] == nil {
			acked[op.Customer] = map[string]int64{}
		}
		for b, n := range op.From {
			acked[op.Customer][b] += n
		}
	}
	for customer, buckets := range layouts {
		used, err := store.Used(ctx, usage.Scope{Customer: customer, Feature: "api_calls"}, buckets)
		require.NoError(t, err)
		for i, b := range buckets {
			assert.Equal(t, acked[customer][b.ID], used[i], "%s %s: the counter equals what was acknowledged", customer, b.ID)
			if !b.Unlimited {
				assert.LessOrEqual(t, used[i], b.Allowance, "%s %s: no bucket gives more than its allowance", customer, b.ID)
			}
		}
	}
}

// K concurrent clients over M meters sharing one real Redis: the history
// is linearizable, no bucket is overspent and the counters equal what was
// acknowledged, each key once.
func TestConcurrentConsumersAreLinearizable(t *testing.T) {
	srv := redistest.Start(t)
	now := time.Now().UTC()
	layouts := randomLayouts(rand.New(rand.NewPCG(11, 12)), 8, now)
	var meters []meter.Client
	var store *redis.Store
	for range 4 {
		s, err := redis.Open(srv.URL(), redis.Options{})
		require.NoError(t, err)
		defer s.Close()
		store = s
		m := meter.New(layouts, s, meter.Options{Timeout: 2 * time.Second})
		defer m.Close()
		meters = append(meters, m)
	}
	ops := runConsumers(t, meters, layouts, 64, 12, 5)
	usagetest.CheckLinearizable(t, usagetest.History{Buckets: layouts, Overage: usage.OverageBlock, Ops: ops}, time.Minute)
	checkBalances(t, store, layouts, ops)
}

// The checker is not vacuous: a history in which two clients both took the
// last unit is refused.
func TestCheckerRefusesOverspend(t *testing.T) {
	b := []usage.Bucket{{ID: "plan:never", Allowance: 1}}
	t0 := time.Now()
	overspent := usagetest.History{Buckets: map[string][]usage.Bucket{"c": b}, Overage: usage.OverageBlock, Ops: []usagetest.Op{
		{Client: 0, Customer: "c", Key: "a", Amount: 1, Call: t0, Return: t0.Add(2), Allowed: true, From: map[string]int64{"plan:never": 1}},
		{Client: 1, Customer: "c", Key: "b", Amount: 1, Call: t0.Add(1), Return: t0.Add(3), Allowed: true, From: map[string]int64{"plan:never": 1}},
	}}
	assert.Error(t, usagetest.Linearizable(overspent, time.Second), "two units out of a bucket of one is not linearizable")
}
