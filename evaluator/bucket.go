package evaluator

import (
	"math/bits"
	"strings"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/period"
	"github.com/promoctl/promoctl/promotions"
)

// ResetMixed is a metered decision's reset when the buckets that count do
// not share one.
const ResetMixed promotions.Reset = "mixed"

// PlanSource is the source id of the plan's bucket. Usage keys the plan's
// counter by its reset rather than by the plan, so a plan change within a
// period carries usage over.
const PlanSource = "plan"

// Bucket is one allowance of a metered decision: the plan baseline, or one
// period of a contributing promotion's grant (a renewal or a re-grant is a
// new bucket). Each bucket keeps its own reset and periods, so nothing is
// read as more than it gives (docs/rules.md, "Allowance buckets").
// Fields are values so that a decision's buckets take one allocation.
type Bucket struct {
	Kind SourceKind
	// ID is the plan's key or the promotion's id.
	ID        string
	Mode      promotions.Mode // promotions
	Allowance promotions.Allowance
	// Schedule is how the bucket's periods fall: Schedule.Reset is its
	// reset; a promotion's are anchored at its grant period's granted_at
	// (Schedule.From) and end with it (Schedule.Until); the plan's follow
	// the UTC calendar or the customer's billing_anchor, forever.
	Schedule period.Schedule
	// Period is the period that holds the decision's instant.
	Period period.Span
	// Order is the bucket's place in consumption order, from 1, among the
	// buckets that count; 0 for a replaced one.
	Order int
	// ReplacedBy names the override promotion that replaces the bucket
	// (the plan's and losing overrides'); "" for a bucket that counts.
	ReplacedBy string
}

// Reset is how often the bucket starts over.
func (b *Bucket) Reset() promotions.Reset { return b.Schedule.Reset }

// GrantedAt is a promotion bucket's grant period start; zero for the plan.
func (b *Bucket) GrantedAt() time.Time {
	if b.Kind != SourcePromotion {
		return time.Time{}
	}
	return snapshot.TimeOf(b.Schedule.From)
}

// SourceID names the bucket: "plan", or
// "promotion:<id>:<granted_at of its grant period>".
func (b *Bucket) SourceID() string { return string(b.AppendSourceID(nil)) }

// AppendSourceID appends SourceID to buf.
func (b *Bucket) AppendSourceID(buf []byte) []byte {
	if b.Kind != SourcePromotion {
		return append(buf, PlanSource...)
	}
	buf = append(buf, "promotion:"...)
	buf = append(buf, b.ID...)
	buf = append(buf, ':')
	return b.GrantedAt().AppendFormat(buf, time.RFC3339Nano)
}

// PeriodAt returns the bucket's period that holds t, and false when t lies
// outside the bucket's lifetime (before its grant period or from its end).
func (b *Bucket) PeriodAt(t time.Time) (period.Span, bool) { return b.Schedule.AtTime(t) }

// compareConsumption orders buckets for consumption: the one whose current
// period ends soonest first; ties: promotion before plan, earlier
// granted_at, then id.
func compareConsumption(a, b *Bucket) int {
	switch {
	case a.Period.End != b.Period.End:
		return cmpInt(a.Period.End, b.Period.End)
	case a.Kind != b.Kind:
		if a.Kind == SourcePromotion {
			return -1
		}
		return 1
	case a.Schedule.From != b.Schedule.From:
		return cmpInt(a.Schedule.From, b.Schedule.From)
	}
	return strings.Compare(a.ID, b.ID)
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Nominal lengths of a reset, for ranking overrides by rate: a month is
// 30.4375 days and a year 365.25, in microseconds.
const (
	microsPerDay   = int64(24 * time.Hour / time.Microsecond)
	microsPerMonth = 2_629_800 * int64(time.Second/time.Microsecond)
	microsPerYear  = 31_557_600 * int64(time.Second/time.Microsecond)
)

// rateLength is the length an override's allowance is given over: its
// reset's nominal length, or for never the length of its grant period;
// false for a never override whose grant does not end.
func (c *contribution) rateLength() (int64, bool) {
	switch c.promo.Metered.Reset {
	case promotions.ResetDaily:
		return microsPerDay, true
	case promotions.ResetWeekly:
		return 7 * microsPerDay, true
	case promotions.ResetMonthly:
		return microsPerMonth, true
	case promotions.ResetYearly:
		return microsPerYear, true
	}
	if c.until == snapshot.Forever {
		return 0, false
	}
	return c.until - c.grantedAt, true
}

// beats ranks overrides by rate, allowance per day: unlimited highest; a
// never override whose grant does not end below every other, and among
// such by allowance; ties: earliest granted_at, then smallest id.
func (c *contribution) beats(o *contribution) bool {
	a, b := c.promo.Metered.Allowance, o.promo.Metered.Allowance
	if a.Unlimited != b.Unlimited {
		return a.Unlimited
	}
	if !a.Unlimited {
		la, boundedA := c.rateLength()
		lb, boundedB := o.rateLength()
		if boundedA != boundedB {
			return boundedA
		}
		if cmp := compareRates(a.Value, la, b.Value, lb, boundedA); cmp != 0 {
			return cmp > 0
		}
	}
	if c.grantedAt != o.grantedAt {
		return c.grantedAt < o.grantedAt
	}
	return c.promo.ID < o.promo.ID
}

// compareRates compares a/la with b/lb exactly (a·lb with b·la in 128
// bits), or a with b when the lengths are unbounded.
func compareRates(a, la, b, lb int64, bounded bool) int {
	if !bounded {
		return cmpInt(a, b)
	}
	ah, al := bits.Mul64(uint64(a), uint64(lb)) // #nosec G115 -- allowances and rate lengths are never negative, so the 64-bit words of their products fit
	bh, bl := bits.Mul64(uint64(b), uint64(la)) // #nosec G115 -- allowances and rate lengths are never negative, so the 64-bit words of their products fit
	switch {
	case ah != bh:
		return cmpInt(int64(ah), int64(bh)) // #nosec G115 -- the high words of two products of values below 2^63 are below 2^62
	case al < bl:
		return -1
	case al > bl:
		return 1
	}
	return 0
}

// meter turns a metered baseline and the contributing promotions into
// buckets: the override with the highest rate replaces the baseline and
// every other override; the rest count, in consumption order. It fills
// the decision's allowance (the sum of the buckets that count), reset
// (theirs, or mixed), next reset and override.
func (d *Decision) meter(baseline *snapshot.PlanEntitlementRow, planKey string, anchor *time.Time, contributing []contribution, t int64) {
	var best *contribution
	for i := range contributing {
		c := &contributing[i]
		if c.promo.Metered.Mode == promotions.ModeOverride && (best == nil || c.beats(best)) {
			best = c
		}
	}
	n := len(contributing)
	if baseline != nil {
		n++
	}
	if n == 0 {
		return
	}
	// One allocation holds every bucket: those that count first, then the
	// replaced ones.
	buckets := make([]Bucket, n)
	counting, replaced := 0, n
	put := func(b Bucket) {
		b.Period, _ = b.Schedule.At(t)
		if best != nil && (b.Kind == SourcePlan || (b.Mode == promotions.ModeOverride && b.ID != best.promo.ID)) {
			b.ReplacedBy = best.promo.ID
			replaced--
			buckets[replaced] = b
			return
		}
		buckets[counting] = b
		counting++
	}
	if baseline != nil {
		s := period.Schedule{Reset: baseline.Reset, Calendar: anchor == nil, From: period.NoStart, Until: period.NoEnd}
		if anchor != nil {
			s.Anchor = snapshot.Micros(*anchor)
		}
		put(Bucket{Kind: SourcePlan, ID: planKey, Allowance: baseline.Allowance, Schedule: s})
	}
	for i := range contributing {
		c := &contributing[i]
		m := c.promo.Metered
		put(Bucket{Kind: SourcePromotion, ID: c.promo.ID, Mode: m.Mode, Allowance: m.Allowance,
			Schedule: period.Schedule{Reset: m.Reset, Anchor: c.grantedAt, From: c.grantedAt, Until: c.until}})
	}
	d.Buckets, d.Replaced = buckets[:counting:counting], buckets[replaced:]
	// Replaced buckets were filled from the end: plan first, then losing
	// overrides by id.
	for i, j := 0, len(d.Replaced)-1; i < j; i, j = i+1, j-1 {
		d.Replaced[i], d.Replaced[j] = d.Replaced[j], d.Replaced[i]
	}
	sortBuckets(d.Buckets)
	next := period.NoEnd
	for i := range d.Buckets {
		b := &d.Buckets[i]
		b.Order = i + 1
		d.Allowance = d.Allowance.Add(b.Allowance)
		switch {
		case i == 0:
			d.Reset = b.Schedule.Reset
		case d.Reset != b.Schedule.Reset:
			d.Reset = ResetMixed
		}
		next = min(next, b.Period.End)
	}
	if next != period.NoEnd {
		d.NextReset = snapshot.TimeOf(next)
	}
	if best != nil {
		d.Override = best.promo.ID
	}
}

// sortBuckets puts buckets in consumption order. An insertion sort: a
// decision has a handful of buckets, and it needs no closure.
func sortBuckets(bs []Bucket) {
	for i := 1; i < len(bs); i++ {
		for j := i; j > 0 && compareConsumption(&bs[j], &bs[j-1]) < 0; j-- {
			bs[j], bs[j-1] = bs[j-1], bs[j]
		}
	}
}
