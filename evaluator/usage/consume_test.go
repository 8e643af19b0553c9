package usage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/usage"
)

var (
	apr25 = time.Date(2026, 4, 25, 0, 0, 0, 0, time.UTC)
	apr26 = apr25.AddDate(0, 0, 1)
	apr02 = time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC)
	may02 = time.Date(2026, 5, 2, 9, 0, 0, 0, time.UTC)
	apr01 = time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	may01 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
)

// The examples/acme layout on 2026-04-25: a daily override (soonest end,
// consumed first), a monthly additive, and the plan it replaces.
func acme() []usage.Bucket {
	return []usage.Bucket{
		{ID: "promotion:migration-burst:2026-04-20T00:00:00Z", Allowance: 20000, PeriodStart: apr25, PeriodEnd: apr26, Order: 0},
		{ID: "promotion:spring-api-boost:2026-04-02T09:00:00Z", Allowance: 50000, PeriodStart: apr02, PeriodEnd: may02, Order: 1},
		{ID: "plan:monthly", Allowance: 10000, PeriodStart: apr01, PeriodEnd: may01, Order: 2, Suspended: true, SuspendedBy: "migration-burst"},
	}
}

func takes(pairs ...any) []usage.Take {
	var out []usage.Take
	byID := map[string]usage.Bucket{}
	for _, b := range acme() {
		byID[b.ID] = b
	}
	for i := 0; i < len(pairs); i += 2 {
		b := byID[pairs[i].(string)]
		out = append(out, usage.Take{Bucket: b.ID, PeriodStart: b.PeriodStart, PeriodEnd: b.PeriodEnd, Amount: int64(pairs[i+1].(int))})
	}
	return out
}

const (
	burst = "promotion:migration-burst:2026-04-20T00:00:00Z"
	boost = "promotion:spring-api-boost:2026-04-02T09:00:00Z"
)

func TestConsume(t *testing.T) {
	for _, tc := range []struct {
		name    string
		used    []int64
		amount  int64
		overage usage.Overage
		want    usage.Plan
	}{
		{"the soonest-ending bucket gives first", []int64{0, 0, 0}, 100, usage.OverageBlock,
			usage.Plan{Outcome: usage.OutcomeConsumed, Allowed: true, Takes: takes(burst, 100)}},
		{"a consume splits across buckets", []int64{19950, 0, 0}, 100, usage.OverageBlock,
			usage.Plan{Outcome: usage.OutcomeConsumed, Allowed: true, Takes: takes(burst, 50, boost, 50)}},
		{"an exhausted bucket is skipped", []int64{20000, 10, 0}, 5, usage.OverageBlock,
			usage.Plan{Outcome: usage.OutcomeConsumed, Allowed: true, Takes: takes(boost, 5)}},
		{"a suspended bucket is never consumed from", []int64{20000, 50000, 0}, 1, usage.OverageBlock,
			usage.Plan{Outcome: usage.OutcomeDenied}},
		{"block is all or nothing", []int64{19990, 49995, 0}, 16, usage.OverageBlock,
			usage.Plan{Outcome: usage.OutcomeDenied}},
		{"exactly the balance is allowed", []int64{19990, 49995, 0}, 15, usage.OverageBlock,
			usage.Plan{Outcome: usage.OutcomeConsumed, Allowed: true, Takes: takes(burst, 10, boost, 5)}},
		{"soft puts the remainder on the last bucket", []int64{19990, 49995, 0}, 20, usage.OverageSoft,
			usage.Plan{Outcome: usage.OutcomeConsumedOver, Allowed: true, Takes: takes(burst, 10, boost, 10), Overage: 5}},
		{"soft with nothing left anywhere", []int64{20000, 50000, 0}, 7, usage.OverageSoft,
			usage.Plan{Outcome: usage.OutcomeConsumedOver, Allowed: true, Takes: takes(boost, 7), Overage: 7}},
		{"a counter past its allowance counts as nothing left", []int64{25000, 0, 0}, 3, usage.OverageBlock,
			usage.Plan{Outcome: usage.OutcomeConsumed, Allowed: true, Takes: takes(boost, 3)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, usage.Consume(acme(), tc.used, tc.amount, tc.overage))
		})
	}
}

func TestConsumeOrderFollowsOrderNotPosition(t *testing.T) {
	b := acme()
	b[0], b[1] = b[1], b[0]
	got := usage.Consume(b, []int64{0, 19999, 0}, 3, usage.OverageBlock)
	assert.Equal(t, takes(burst, 1, boost, 2), got.Takes, "used is aligned with the slice, order with Order")
}

func TestConsumeUnlimited(t *testing.T) {
	b := acme()
	b[1].Unlimited = true
	b[1].Allowance = 0
	got := usage.Consume(b, []int64{0, 123, 0}, 500, usage.OverageBlock)
	assert.Equal(t, usage.Plan{Outcome: usage.OutcomeConsumed, Allowed: true, Takes: takes(boost, 500)}, got,
		"an unlimited bucket takes the whole amount: the daily override keeps its 20,000")
	rem, unlimited := usage.Balance(b, []int64{0, 123, 0})
	assert.True(t, unlimited)
	assert.Zero(t, rem)
}

func TestConsumeWithoutBuckets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		buckets []usage.Bucket
	}{
		{"none", nil},
		{"only suspended", acme()[2:]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := usage.Consume(tc.buckets, nil, 1, usage.OverageSoft)
			assert.Equal(t, usage.Plan{Outcome: usage.OutcomeDenied}, got, "soft overage needs a bucket to record on")
		})
	}
}

func TestBalanceAndNextReset(t *testing.T) {
	rem, unlimited := usage.Balance(acme(), []int64{500, 1000, 9999})
	assert.False(t, unlimited)
	assert.Equal(t, int64(19500+49000), rem, "a suspended bucket's remainder is not spendable")
	assert.Equal(t, apr26, usage.NextReset(acme()))
	assert.True(t, usage.NextReset([]usage.Bucket{{ID: "plan:never"}}).IsZero())
}

func TestStale(t *testing.T) {
	for _, tc := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{"inside every period", apr25.Add(12 * time.Hour), false},
		{"at a period's start", apr25, false},
		{"at a period's end (half-open)", apr26, true},
		{"before the daily period", apr25.Add(-time.Second), true},
		{"only a suspended bucket's period has ended", apr25.Add(time.Hour), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := acme()
			if tc.name == "only a suspended bucket's period has ended" {
				b[2].PeriodEnd = apr25
			}
			assert.Equal(t, tc.want, usage.Stale(b, tc.now))
		})
	}
}

func TestRelease(t *testing.T) {
	tk := takes(burst, 10, boost, 5)
	for _, tc := range []struct {
		name         string
		now          time.Time
		back, closed []usage.Take
	}{
		{"both periods open", apr25.Add(time.Hour), tk, nil},
		{"the daily period closed", apr26, tk[1:], tk[:1]},
		{"both closed", may02, nil, tk},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back, closed := usage.Release(tk, tc.now)
			assert.Equal(t, tc.back, back)
			assert.Equal(t, tc.closed, closed)
		})
	}
	back, _ := usage.Release([]usage.Take{{Bucket: "plan:never", Amount: 1}}, may02)
	require.Len(t, back, 1, "a period that never ends never closes")
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		amount int64
		ok     bool
	}{{1, true}, {usage.MaxAmount, true}, {0, false}, {-1, false}, {usage.MaxAmount + 1, false}} {
		assert.Equal(t, tc.ok, usage.ValidateAmount(tc.amount) == nil, "amount %d", tc.amount)
	}
	for _, tc := range []struct {
		key string
		ok  bool
	}{{"k", true}, {string(make([]byte, 255)), true}, {"", false}, {string(make([]byte, 256)), false}} {
		assert.Equal(t, tc.ok, usage.ValidateKey(tc.key) == nil, "key of %d bytes", len(tc.key))
	}
}
