package evaluator_test

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// The reference model of the allowance buckets (docs/rules.md, "Allowance
// buckets"), written from the rules rather than from the evaluator: it
// walks the model's promotions instead of the snapshot's rows, ranks
// overrides with exact rationals, and finds periods by stepping
// promotions.AddDuration from the anchor and by time.Date, instead of the
// calendar arithmetic of evaluator/period.

// refBucket is a bucket as the reference model sees it.
type refBucket struct {
	source     string
	promotion  bool
	id         string
	mode       promotions.Mode
	allowance  promotions.Allowance
	reset      promotions.Reset
	grantedAt  time.Time // promotions
	start, end time.Time // the current period; zero for an open side
	replacedBy string
}

func (b refBucket) String() string {
	return fmt.Sprintf("%s %s %s [%s, %s) replaced_by=%q", b.source, b.allowance, b.reset, b.start.Format(time.RFC3339), b.end.Format(time.RFC3339), b.replacedBy)
}

// refHolding returns the grant period of p that holds q.At for q's
// customer: its start and end (zero when it never ends).
func refHolding(p *promotions.Promotion, q evaluator.Query) (time.Time, time.Time, bool) {
	periods, _ := deciding(p, q.Customer, q.At)
	for _, per := range periods {
		if !holds(p, per, q.At) {
			continue
		}
		var end time.Time
		if e := p.GrantEnd(per.GrantedAt); e != nil {
			end = *e
		}
		for _, stop := range []*time.Time{per.RevokedAt, p.DeactivatedAt} {
			if stop != nil && (end.IsZero() || stop.Before(end)) {
				end = *stop
			}
		}
		return per.GrantedAt, end, true
	}
	return time.Time{}, time.Time{}, false
}

var resetUnit = map[promotions.Reset]promotions.Duration{
	promotions.ResetDaily:   {Value: 1, Unit: promotions.UnitDays},
	promotions.ResetWeekly:  {Value: 1, Unit: promotions.UnitWeeks},
	promotions.ResetMonthly: {Value: 1, Unit: promotions.UnitMonths},
	promotions.ResetYearly:  {Value: 1, Unit: promotions.UnitYears},
}

// refAnchored is the period of reset counted from anchor that holds t:
// the last anchor + n·reset at or before t, found from an estimate of n
// and then stepped, each candidate computed from the anchor.
func refAnchored(anchor time.Time, reset promotions.Reset, t time.Time) (time.Time, time.Time) {
	unit := resetUnit[reset]
	nth := func(n int) time.Time {
		if n < 0 { // before the anchor: count back from an earlier anchor
			d := unit
			d.Value = -n
			back := anchorBack(anchor, d)
			return back
		}
		d := unit
		d.Value = n
		return promotions.AddDuration(anchor, d)
	}
	var n int
	switch reset {
	case promotions.ResetDaily:
		n = int(t.Sub(anchor) / (24 * time.Hour))
	case promotions.ResetWeekly:
		n = int(t.Sub(anchor) / (7 * 24 * time.Hour))
	case promotions.ResetMonthly:
		n = (t.Year()-anchor.Year())*12 + int(t.Month()-anchor.Month())
	case promotions.ResetYearly:
		n = t.Year() - anchor.Year()
	}
	for nth(n).After(t) {
		n--
	}
	for !nth(n + 1).After(t) {
		n++
	}
	return nth(n), nth(n + 1)
}

// anchorBack is anchor minus d, clamped like a forward step: the instant
// whose forward step by d lands on the anchor's day, or the month's end.
func anchorBack(anchor time.Time, d promotions.Duration) time.Time {
	switch d.Unit {
	case promotions.UnitDays:
		return anchor.AddDate(0, 0, -d.Value)
	case promotions.UnitWeeks:
		return anchor.AddDate(0, 0, -7*d.Value)
	}
	months := d.Value
	if d.Unit == promotions.UnitYears {
		months *= 12
	}
	first := time.Date(anchor.Year(), anchor.Month()-time.Month(months), 1, anchor.Hour(), anchor.Minute(), anchor.Second(), anchor.Nanosecond(), time.UTC)
	last := time.Date(first.Year(), first.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return first.AddDate(0, 0, min(anchor.Day(), last)-1)
}

// refCalendar is the UTC calendar period of reset that holds t.
func refCalendar(reset promotions.Reset, t time.Time) (time.Time, time.Time) {
	y, m, d := t.Date()
	switch reset {
	case promotions.ResetDaily:
		start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 1)
	case promotions.ResetWeekly:
		back := (int(t.Weekday()) + 6) % 7 // days since Monday
		start := time.Date(y, m, d-back, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 0, 7)
	case promotions.ResetMonthly:
		start := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	default:
		start := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(1, 0, 0)
	}
}

// refPeriod cuts a period to the bucket's life [from, until) and drops
// sides beyond the years 0001-9999.
func refPeriod(start, end, from, until time.Time) (time.Time, time.Time) {
	if !from.IsZero() && start.Before(from) {
		start = from
	}
	if !until.IsZero() && (end.IsZero() || until.Before(end)) {
		end = until
	}
	if start.Before(promotions.MinTime) {
		start = time.Time{}
	}
	if end.After(promotions.MaxTime) {
		end = time.Time{}
	}
	return start, end
}

// refRate is an override's rate in allowance per microsecond, exactly; nil
// for a never override whose grant does not end (it ranks below all).
func refRate(b refBucket) *big.Rat {
	days := map[promotions.Reset]*big.Rat{
		promotions.ResetDaily: big.NewRat(1, 1), promotions.ResetWeekly: big.NewRat(7, 1),
		promotions.ResetMonthly: big.NewRat(304375, 10000), promotions.ResetYearly: big.NewRat(36525, 100),
	}
	var length *big.Rat
	if d, ok := days[b.reset]; ok {
		length = new(big.Rat).Mul(d, big.NewRat(int64(24*time.Hour/time.Microsecond), 1))
	} else {
		if b.end.IsZero() {
			return nil
		}
		length = big.NewRat(b.end.Sub(b.grantedAt).Microseconds(), 1)
	}
	return new(big.Rat).Quo(new(big.Rat).SetInt64(b.allowance.Value), length)
}

// refBeats ranks overrides (docs/rules.md).
func refBeats(a, b refBucket) bool {
	if a.allowance.Unlimited != b.allowance.Unlimited {
		return a.allowance.Unlimited
	}
	if !a.allowance.Unlimited {
		ra, rb := refRate(a), refRate(b)
		switch {
		case ra != nil && rb == nil:
			return true
		case ra == nil && rb != nil:
			return false
		case ra == nil:
			if a.allowance.Value != b.allowance.Value {
				return a.allowance.Value > b.allowance.Value
			}
		case ra.Cmp(rb) != 0:
			return ra.Cmp(rb) > 0
		}
	}
	if !a.grantedAt.Equal(b.grantedAt) {
		return a.grantedAt.Before(b.grantedAt)
	}
	return a.id < b.id
}

// referenceBuckets computes the buckets that count, in consumption order,
// and the replaced ones, for a metered query.
func referenceBuckets(m *promotions.Model, q evaluator.Query) (counting, replaced []refBucket, override string) {
	var all []refBucket
	plan := q.Plan
	var anchor *time.Time
	if c := m.Customers[q.Customer]; c != nil {
		if plan == "" {
			plan = c.Plan
		}
		anchor = c.BillingAnchor
	}
	if p := m.Plans[plan]; p != nil {
		for _, e := range p.Entitlements {
			if e.Feature != q.Feature {
				continue
			}
			b := refBucket{source: "plan", id: plan, allowance: *e.Allowance, reset: e.Reset}
			switch {
			case e.Reset == promotions.ResetNever:
			case anchor != nil:
				b.start, b.end = refAnchored(*anchor, e.Reset, q.At)
			default:
				b.start, b.end = refCalendar(e.Reset, q.At)
			}
			b.start, b.end = refPeriod(b.start, b.end, time.Time{}, time.Time{})
			all = append(all, b)
			break
		}
	}
	for _, id := range m.PromotionIDs() {
		p := m.Promotions[id]
		if !shouldContribute(m, p, q) {
			continue
		}
		from, until, ok := refHolding(p, q)
		if !ok {
			continue
		}
		b := refBucket{source: "promotion:" + id + ":" + from.Format(time.RFC3339Nano), promotion: true, id: id,
			mode: p.Metered.Mode, allowance: p.Metered.Allowance, reset: p.Metered.Reset, grantedAt: from}
		start, end := from, until
		if p.Metered.Reset != promotions.ResetNever {
			start, end = refAnchored(from, p.Metered.Reset, q.At)
		}
		b.start, b.end = refPeriod(start, end, from, until)
		all = append(all, b)
	}
	var best *refBucket
	for i := range all {
		if all[i].mode == promotions.ModeOverride && (best == nil || refBeats(all[i], *best)) {
			best = &all[i]
		}
	}
	if best != nil {
		override = best.id
	}
	for _, b := range all {
		if best != nil && (!b.promotion || (b.mode == promotions.ModeOverride && b.id != best.id)) {
			b.replacedBy = best.id
			replaced = append(replaced, b)
			continue
		}
		counting = append(counting, b)
	}
	ends := func(b refBucket) time.Time {
		if b.end.IsZero() {
			return promotions.MaxTime.Add(time.Hour)
		}
		return b.end
	}
	slices.SortFunc(counting, func(a, b refBucket) int {
		if c := ends(a).Compare(ends(b)); c != 0 {
			return c
		}
		if a.promotion != b.promotion {
			if a.promotion {
				return -1
			}
			return 1
		}
		if c := a.grantedAt.Compare(b.grantedAt); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return counting, replaced, override
}

func viewDecisionBuckets(bs []evaluator.Bucket) []string {
	out := []string{}
	for i := range bs {
		b := &bs[i]
		out = append(out, refBucket{source: b.SourceID(), allowance: b.Source.Allowance, reset: b.Reset(),
			start: b.Period.StartTime(), end: b.Period.EndTime(), replacedBy: b.ReplacedBy}.String())
	}
	return out
}

// checkBucketsAgainstReference holds a metered decision's buckets, allowance,
// reset, next_reset and override equal to the reference model's.
func checkBucketsAgainstReference(t *testing.T, m *promotions.Model, q evaluator.Query, d evaluator.Decision) {
	t.Helper()
	if d.FeatureType != promotions.FeatureMetered {
		if len(d.Buckets)+len(d.Replaced) > 0 {
			t.Fatalf("%+v: a boolean decision has buckets", q)
		}
		return
	}
	counting, replaced, override := referenceBuckets(m, q)
	want := func(bs []refBucket) []string {
		out := []string{}
		for _, b := range bs {
			out = append(out, b.String())
		}
		return out
	}
	if got, w := viewDecisionBuckets(d.Buckets), want(counting); !slices.Equal(got, w) {
		t.Fatalf("%+v: buckets\n got  %q\n want %q", q, got, w)
	}
	if got, w := viewDecisionBuckets(d.Replaced), want(replaced); !slices.Equal(got, w) {
		t.Fatalf("%+v: replaced buckets\n got  %q\n want %q", q, got, w)
	}
	var allowance promotions.Allowance
	var reset promotions.Reset
	var next time.Time
	for i, b := range counting {
		allowance = allowance.Add(b.allowance)
		switch {
		case i == 0:
			reset = b.reset
		case reset != b.reset:
			reset = "mixed"
		}
		if !b.end.IsZero() && (next.IsZero() || b.end.Before(next)) {
			next = b.end
		}
	}
	if d.Allowance != allowance || d.Reset != reset || !d.NextReset.Equal(next) {
		t.Fatalf("%+v: allowance %s reset %q next_reset %s, want %s %q %s", q, d.Allowance, d.Reset, d.NextReset, allowance, reset, next)
	}
	if d.Override != override {
		t.Fatalf("%+v: override %q, want %q", q, d.Override, override)
	}
}
