package evaluator

import (
	"math/bits"
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
// A bucket points at its source rather than copying it: a decision's
// buckets then take one small allocation, written once.
type Bucket struct {
	// Source is the source the bucket belongs to, one of the decision's
	// Sources: its kind, id, mode and allowance.
	Source *Source
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
	if b.Source.Kind != SourcePromotion {
		return time.Time{}
	}
	return snapshot.TimeOf(b.Schedule.From)
}

// SourceID names the bucket: "plan", or
// "promotion:<id>:<granted_at of its grant period>".
func (b *Bucket) SourceID() string { return string(b.AppendSourceID(nil)) }

// AppendSourceID appends SourceID to buf.
func (b *Bucket) AppendSourceID(buf []byte) []byte {
	if b.Source.Kind != SourcePromotion {
		return append(buf, PlanSource...)
	}
	buf = append(buf, "promotion:"...)
	buf = append(buf, b.Source.ID...)
	buf = append(buf, ':')
	return b.GrantedAt().AppendFormat(buf, time.RFC3339Nano)
}

// PeriodAt returns the bucket's period that holds t, and false when t lies
// outside the bucket's lifetime (before its grant period or from its end).
func (b *Bucket) PeriodAt(t time.Time) (period.Span, bool) { return b.Schedule.AtTime(t) }

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

// meter turns the decision's metered sources — the baseline first when
// there is one, then a source per contributing promotion, in the order of
// contributing — into buckets: the override with the highest rate
// replaces the baseline and every other override; the rest count, in
// consumption order. It fills the decision's allowance (the sum of the
// buckets that count), reset (theirs, or mixed), next reset and override.
//
// Periods and the order are worked out on the stack first and each bucket
// is then written once, in place: copying or swapping buckets in the heap
// costs a write barrier per pointer while the collector runs.
func (d *Decision) meter(baseline *snapshot.PlanEntitlementRow, anchor *time.Time, contributing []contribution, t int64) {
	best := -1
	for i := range contributing {
		if contributing[i].promo.Metered.Mode == promotions.ModeOverride && (best < 0 || contributing[i].beats(&contributing[best])) {
			best = i
		}
	}
	n := len(d.Sources)
	if n == 0 {
		return
	}
	var pendBuf [16]pendingBucket
	var orderBuf [16]int
	pend, order := pendBuf[:0], orderBuf[:0]
	if n > len(pendBuf) {
		pend, order = make([]pendingBucket, 0, n), make([]int, 0, n)
	}
	if baseline != nil {
		s := period.Schedule{Reset: baseline.Reset, Calendar: anchor == nil, From: period.NoStart, Until: period.NoEnd}
		if anchor != nil {
			s.Anchor = snapshot.Micros(*anchor)
		}
		pend = append(pend, pendingBucket{schedule: s, replaced: best >= 0})
	}
	for i := range contributing {
		c := &contributing[i]
		m := c.promo.Metered
		pend = append(pend, pendingBucket{id: c.promo.ID, promotion: true,
			schedule: period.Schedule{Reset: m.Reset, Anchor: c.grantedAt, From: c.grantedAt, Until: c.until},
			replaced: best >= 0 && m.Mode == promotions.ModeOverride && i != best})
	}
	counting, at := 0, period.NewInstant(t)
	for i := range pend {
		p := &pend[i]
		p.period, _ = p.schedule.AtInstant(at)
		if p.replaced {
			continue
		}
		// Insertion into consumption order: a decision has a handful of
		// buckets.
		j := len(order)
		order = append(order, i)
		for ; j > 0 && pend[order[j-1]].after(p); j-- {
			order[j] = order[j-1]
		}
		order[j] = i
		counting++
	}
	// One allocation holds every bucket: those that count in consumption
	// order, then the replaced ones (the plan's first, then by id).
	buckets := make([]Bucket, n)
	next := period.NoEnd
	for pos, i := range order {
		p := &pend[i]
		b := &buckets[pos]
		b.Source, b.Schedule, b.Period, b.Order = &d.Sources[i], p.schedule, p.period, pos+1
		d.Allowance = d.Allowance.Add(b.Source.Allowance)
		switch {
		case pos == 0:
			d.Reset = p.schedule.Reset
		case d.Reset != p.schedule.Reset:
			d.Reset = ResetMixed
		}
		next = min(next, p.period.End)
	}
	if best >= 0 {
		d.Override = contributing[best].promo.ID
		pos := counting
		for i := range pend {
			if pend[i].replaced {
				b := &buckets[pos]
				b.Source, b.Schedule, b.Period, b.ReplacedBy = &d.Sources[i], pend[i].schedule, pend[i].period, d.Override
				pos++
			}
		}
	}
	d.Buckets, d.Replaced = buckets[:counting:counting], buckets[counting:]
	if next != period.NoEnd {
		d.NextReset = snapshot.TimeOf(next)
	}
}

// pendingBucket is a bucket being worked out on the stack.
type pendingBucket struct {
	id        string // the promotion's
	promotion bool
	replaced  bool
	schedule  period.Schedule
	period    period.Span
}

// after reports whether p comes after o in consumption order: the one
// whose current period ends soonest first; ties: promotion before plan,
// earlier granted_at, then id.
func (p *pendingBucket) after(o *pendingBucket) bool {
	switch {
	case p.period.End != o.period.End:
		return p.period.End > o.period.End
	case p.promotion != o.promotion:
		return o.promotion
	case p.schedule.From != o.schedule.From:
		return p.schedule.From > o.schedule.From
	}
	return p.id > o.id
}
