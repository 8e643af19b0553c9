package usage_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
)

// RandomLayout is a random set of buckets with random counters, for
// properties that must hold whatever the layout.
func randomLayout(r *rand.Rand) ([]usage.Bucket, []int64) {
	n := r.IntN(5)
	buckets := make([]usage.Bucket, n)
	used := make([]int64, n)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range buckets {
		buckets[i] = usage.Bucket{
			ID:          fmt.Sprintf("b%d", i),
			Allowance:   int64(r.IntN(50)),
			Unlimited:   r.IntN(10) == 0,
			PeriodStart: start,
			PeriodEnd:   start.Add(time.Duration(1+r.IntN(48)) * time.Hour),
			Order:       r.IntN(5),
			Suspended:   r.IntN(6) == 0,
		}
		used[i] = int64(r.IntN(60))
	}
	return buckets, used
}

func TestConsumeProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		buckets, used := randomLayout(r)
		amount := int64(1 + r.IntN(80))
		overage := []usage.Overage{usage.OverageBlock, usage.OverageSoft}[r.IntN(2)]
		plan := usage.Consume(buckets, used, amount, overage)
		remaining, unlimited := usage.Balance(buckets, used)

		var sum int64
		byID := map[string]int{}
		for i, b := range buckets {
			byID[b.ID] = i
		}
		for _, tk := range plan.Takes {
			i := byID[tk.Bucket]
			require.False(t, buckets[i].Suspended, "took from a suspended bucket: %+v", buckets)
			require.Positive(t, tk.Amount)
			sum += tk.Amount
		}
		if !plan.Allowed {
			require.Empty(t, plan.Takes)
			require.False(t, unlimited)
			require.True(t, overage == usage.OverageBlock && remaining < amount || len(usage.Active(buckets)) == 0,
				"denied with %d left for %d under %s", remaining, amount, overage)
			continue
		}
		require.Equal(t, amount, sum, "takes add up to the amount")
		if unlimited {
			require.Len(t, plan.Takes, 1)
			require.True(t, buckets[byID[plan.Takes[0].Bucket]].Unlimited)
			continue
		}
		require.Equal(t, max(0, amount-remaining), plan.Overage)
		for j, tk := range plan.Takes {
			i := byID[tk.Bucket]
			over := int64(0)
			if j == len(plan.Takes)-1 {
				over = plan.Overage
			}
			require.LessOrEqual(t, tk.Amount-over, buckets[i].Remaining(used[i]), "no bucket gives more than it has left")
		}
	}
}
