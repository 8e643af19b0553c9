package evaluator_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/period"
	"github.com/promoctl/promoctl/promotions"
)

// TestBucketProperties decides generated models (FuzzDecide's, from seeded
// random bytes) and holds, for every metered decision:
//   - the buckets that count add up to the allowance (unlimited when one
//     is), and with the replaced ones they are exactly the sources;
//   - each bucket's period holds the instant and lies within its
//     lifetime: no period crosses its grant's end;
//   - consumption order is total — soonest end, promotion before plan,
//     earlier granted_at, then id, with no two buckets equal — and stable
//     under renaming: renaming every promotion gives the same buckets in
//     the same places, up to ties that only the ids break.
func TestBucketProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 4))
	decisions, several, replaced := 0, 0, 0
	for round := 0; round < 400; round++ {
		data := make([]byte, 160)
		for i := range data {
			data[i] = byte(rng.UintN(256))
		}
		m := randomModel(&choices{data: data})
		snap, err := snapshot.Build(m, "prop")
		require.NoError(t, err)
		renamed, err := snapshot.Build(renamePromotions(m), "prop")
		require.NoError(t, err)
		for _, at := range queryInstants(m, rng) {
			for _, customer := range fuzzCustomers {
				q := evaluator.Query{Customer: customer, Feature: "meter", At: at}
				d, err := evaluator.Decide(snap, q)
				require.NoError(t, err)
				checkBucketsAddUp(t, q, d)
				checkBucketPeriods(t, q, d)
				checkConsumptionOrder(t, q, d)
				r, err := evaluator.Decide(renamed, q)
				require.NoError(t, err)
				checkRenamingKeepsOrder(t, q, d, r)
				decisions++
				if len(d.Buckets) > 1 {
					several++
				}
				if len(d.Replaced) > 0 {
					replaced++
				}
			}
		}
	}
	require.Greater(t, decisions, 1000)
	require.Greater(t, several, 100, "decisions with several buckets")
	require.Greater(t, replaced, 100, "decisions with replaced buckets")
}

// queryInstants are instants where grants of m run: shortly after each
// grant starts, and one anywhere.
func queryInstants(m *promotions.Model, rng *rand.Rand) []time.Time {
	out := []time.Time{fuzzEpoch.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour))))}
	for _, id := range m.PromotionIDs() {
		p := m.Promotions[id]
		var starts []time.Time
		if p.Grants.All != nil {
			starts = append(starts, p.Grants.All.GrantedAt)
		}
		for _, g := range p.Grants.Customers {
			starts = append(starts, g.GrantedAt)
		}
		for _, s := range starts {
			if at := s.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour)))); promotions.InRange(at) {
				out = append(out, at)
			}
		}
	}
	return out
}

func checkBucketsAddUp(t *testing.T, q evaluator.Query, d evaluator.Decision) {
	t.Helper()
	var sum promotions.Allowance
	for i := range d.Buckets {
		sum = sum.Add(d.Buckets[i].Source.Allowance)
		require.Equal(t, i+1, d.Buckets[i].Order, "%+v: order numbers", q)
		require.Empty(t, d.Buckets[i].ReplacedBy, "%+v: a bucket that counts is not replaced", q)
	}
	require.Equal(t, sum, d.Allowance, "%+v: the buckets that count add up to the allowance", q)
	require.Equal(t, len(d.Sources), len(d.Buckets)+len(d.Replaced), "%+v: one bucket per source", q)
	seen := map[*evaluator.Source]bool{}
	for _, bs := range [][]evaluator.Bucket{d.Buckets, d.Replaced} {
		for i := range bs {
			require.False(t, seen[bs[i].Source], "%+v: two buckets of one source", q)
			seen[bs[i].Source] = true
			require.Equal(t, d.ReplacedBy(*bs[i].Source), bs[i].ReplacedBy, "%+v: replaced_by of %s", q, bs[i].SourceID())
		}
	}
	for i := range d.Replaced {
		require.Equal(t, d.Override, d.Replaced[i].ReplacedBy, "%+v", q)
	}
}

func checkBucketPeriods(t *testing.T, q evaluator.Query, d evaluator.Decision) {
	t.Helper()
	now := snapshot.Micros(q.At)
	for _, bs := range [][]evaluator.Bucket{d.Buckets, d.Replaced} {
		for i := range bs {
			b := &bs[i]
			p, s := b.Period, b.Schedule
			require.True(t, p.Start == period.NoStart || p.Start <= now, "%+v: %s's period starts after the instant", q, b.SourceID())
			require.True(t, p.End == period.NoEnd || now < p.End, "%+v: %s's period ended before the instant", q, b.SourceID())
			if s.From != period.NoStart {
				require.True(t, p.Start == period.NoStart || p.Start >= s.From, "%+v: %s's period starts before its grant", q, b.SourceID())
			}
			if s.Until != period.NoEnd {
				require.True(t, p.End != period.NoEnd && p.End <= s.Until, "%+v: %s's period [%s, %s) crosses its grant's end %s",
					q, b.SourceID(), p.StartTime(), p.EndTime(), snapshot.TimeOf(s.Until))
			}
			again, ok := b.PeriodAt(q.At)
			require.True(t, ok, "%+v", q)
			require.Equal(t, p, again, "%+v: PeriodAt at the decision's instant", q)
		}
	}
}

// orderKey is what consumption order compares, the id aside.
type orderKey struct {
	end       int64
	plan      bool
	grantedAt int64
}

func keyOf(b *evaluator.Bucket) orderKey {
	return orderKey{end: b.Period.End, plan: b.Source.Kind == evaluator.SourcePlan, grantedAt: b.Schedule.From}
}

func (k orderKey) less(o orderKey) bool {
	if k.end != o.end {
		return k.end < o.end
	}
	if k.plan != o.plan {
		return !k.plan
	}
	return k.grantedAt < o.grantedAt
}

func checkConsumptionOrder(t *testing.T, q evaluator.Query, d evaluator.Decision) {
	t.Helper()
	for i := 1; i < len(d.Buckets); i++ {
		a, b := &d.Buckets[i-1], &d.Buckets[i]
		ka, kb := keyOf(a), keyOf(b)
		require.False(t, kb.less(ka), "%+v: %s before %s", q, a.SourceID(), b.SourceID())
		if ka == kb {
			require.Less(t, a.Source.ID, b.Source.ID, "%+v: a tie is broken by id, and no two buckets are equal", q)
		}
	}
}

// renamePromotions gives every promotion another id, in reverse order of
// the old ones, so that only ties broken by id can move.
func renamePromotions(m *promotions.Model) *promotions.Model {
	out := *m
	out.Promotions = make(map[string]*promotions.Promotion, len(m.Promotions))
	for id, p := range m.Promotions {
		cp := *p
		cp.ID = renamed(id)
		out.Promotions[cp.ID] = &cp
	}
	return &out
}

func renamed(id string) string {
	var b strings.Builder
	b.WriteString("r-")
	for _, c := range id {
		if c >= '0' && c <= '9' {
			c = '9' - (c - '0')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func checkRenamingKeepsOrder(t *testing.T, q evaluator.Query, d, r evaluator.Decision) {
	t.Helper()
	if d.Override != "" && renamed(d.Override) != r.Override {
		// Overrides of equal rate granted at the same instant: the id
		// decides, so renaming may choose the other one.
		var other *evaluator.Bucket
		for i := range d.Replaced {
			if renamed(d.Replaced[i].Source.ID) == r.Override {
				other = &d.Replaced[i]
			}
		}
		require.NotNil(t, other, "%+v: renaming chose %s, not an override of the decision", q, r.Override)
		for i := range d.Buckets {
			if d.Buckets[i].Source.ID == d.Override {
				require.Equal(t, d.Buckets[i].Schedule.From, other.Schedule.From, "%+v: renaming changed the override between grants of different instants", q)
			}
		}
		return
	}
	require.Equal(t, len(d.Buckets), len(r.Buckets), "%+v", q)
	require.Equal(t, d.Allowance, r.Allowance, "%+v", q)
	require.Equal(t, d.Reset, r.Reset, "%+v", q)
	require.Equal(t, d.NextReset, r.NextReset, "%+v", q)
	for i := range d.Buckets {
		a, b := &d.Buckets[i], &r.Buckets[i]
		require.Equal(t, keyOf(a), keyOf(b), "%+v: bucket %d moved when promotions were renamed", q, i+1)
		if i > 0 && keyOf(a) == keyOf(&d.Buckets[i-1]) || i+1 < len(d.Buckets) && keyOf(a) == keyOf(&d.Buckets[i+1]) {
			continue // a tie that only ids break
		}
		require.Equal(t, a.Source.Allowance, b.Source.Allowance, "%+v", q)
		require.Equal(t, a.Reset(), b.Reset(), "%+v", q)
		if a.Source.Kind == evaluator.SourcePromotion {
			require.Equal(t, renamed(a.Source.ID), b.Source.ID, "%+v", q)
		}
	}
}
