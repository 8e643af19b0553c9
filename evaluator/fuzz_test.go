package evaluator_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// FuzzDecide builds a small random model from the fuzzer's bytes, asks
// every customer × feature at a few instants, and checks the decision rules
// of the decision rules (README, "How a decision is made") as properties rather than examples:
//   - every promotion source is justified (for the feature, eligible, a
//     period of its deciding grant running at t — the customer's entry from
//     its first granted_at on, else grants.all — so a revoked period never
//     contributes at t >= revoked_at, and a deactivated promotion never
//     contributes at t >= deactivated_at), and every justified promotion
//     is a source;
//   - unlimited absorbs: an unlimited contributing promotion, or an
//     unlimited baseline not replaced by an override, makes the answer
//     unlimited;
//   - additive is monotone: adding an additive grant never lowers the
//     allowance, nor takes access away;
//   - a metered allowance is never negative;
//   - the allowance buckets (docs/rules.md, "Allowance buckets") equal a
//     reference model written independently of the evaluator: the override
//     ranked by exact rationals, periods stepped with
//     promotions.AddDuration and time.Date rather than calendar
//     arithmetic, then allowance, reset, next_reset, replaced_by and
//     consumption order.
func FuzzDecide(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("\x01\x01\x02\x03\x00\x02\x01\x03\x01\x02\x02\x04\x01\x00\x01\x03\x05\x02\x01\x01\x04"))
	f.Add([]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\xef\xee\xed\xec"))
	// Two additive promotions of nearly math.MaxInt64 each (allowance
	// choice 3) on the metered feature, both granted to everyone.
	f.Add([]byte("\x00\x00\x00\x00\x00\x00\x02\x01\x00\x01\x03\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01\x00\x01\x03\x00\x00\x00\x00\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &choices{data: data}
		m := randomModel(c)
		snap, err := snapshot.Build(m, "fuzz")
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		withExtra := withAdditiveGrant(t, m, randomAllowance(c))
		for _, at := range []time.Time{instant(c), instant(c), instant(c)} {
			for _, customer := range fuzzCustomers {
				for _, feature := range []string{"flag", "meter"} {
					q := evaluator.Query{Customer: customer, Feature: feature, At: at}
					if c.next(4) == 0 {
						q.Plan = fuzzPlans[c.next(len(fuzzPlans))]
					}
					d, err := evaluator.Decide(snap, q)
					if err != nil {
						t.Fatalf("decide %+v: %v", q, err)
					}
					checkSources(t, m, q, d)
					checkUnlimitedAbsorbs(t, d)
					if d.Allowance.Value < 0 {
						t.Fatalf("%+v: negative allowance %d", q, d.Allowance.Value)
					}
					checkAdditiveMonotone(t, withExtra, q, d)
					checkBucketsAgainstReference(t, m, q, d)
				}
			}
		}
	})
}

var (
	fuzzCustomers = []string{"c0", "c1", "ghost"}
	fuzzPlans     = []string{"p0", "p1"}
	fuzzEpoch     = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// choices reads decisions from fuzz input; past its end every choice is 0.
type choices struct {
	data []byte
	pos  int
}

func (c *choices) next(n int) int {
	if c.pos >= len(c.data) || n <= 1 {
		c.pos++
		return 0
	}
	b := c.data[c.pos]
	c.pos++
	return int(b) % n
}

// fuzzEras are where instants are drawn: the present, and hours around
// the ends of what Unix nanoseconds in an int64 hold (1677 and 2262) and
// around the end of year 9999, where comparisons must neither wrap nor
// flip.
var fuzzEras = []time.Time{
	fuzzEpoch,
	time.Date(1677, 9, 21, 0, 0, 0, 0, time.UTC),
	time.Date(2262, 4, 11, 23, 0, 0, 0, time.UTC),
	time.Date(9999, 12, 28, 0, 0, 0, 0, time.UTC),
}

func instant(c *choices) time.Time {
	v := c.next(64 * len(fuzzEras))
	return fuzzEras[v/64].Add(time.Duration(v%64) * time.Hour)
}

func randomAllowance(c *choices) promotions.Allowance {
	switch c.next(4) {
	case 0:
		return promotions.Allowance{Value: 0}
	case 1:
		return promotions.Allowance{Value: int64(1 + c.next(1000))}
	case 2:
		return promotions.UnlimitedAllowance
	default:
		return promotions.Allowance{Value: math.MaxInt64 - int64(c.next(16))}
	}
}

var resets = []promotions.Reset{promotions.ResetNever, promotions.ResetDaily, promotions.ResetWeekly, promotions.ResetMonthly, promotions.ResetYearly}

func randomModel(c *choices) *promotions.Model {
	m := &promotions.Model{
		Features: map[string]*promotions.Feature{
			"flag":  {Key: "flag", Type: promotions.FeatureBoolean},
			"meter": {Key: "meter", Type: promotions.FeatureMetered},
		},
		Plans:        map[string]*promotions.Plan{},
		Customers:    map[string]*promotions.Customer{},
		Promotions:   map[string]*promotions.Promotion{},
		HasDirectory: true,
	}
	for _, key := range fuzzPlans {
		p := &promotions.Plan{Key: key}
		if c.next(2) == 1 {
			p.Entitlements = append(p.Entitlements, promotions.PlanEntitlement{Feature: "flag"})
		}
		if c.next(2) == 1 {
			a := randomAllowance(c)
			p.Entitlements = append(p.Entitlements, promotions.PlanEntitlement{Feature: "meter", Allowance: &a, Reset: resets[c.next(len(resets))]})
		}
		m.Plans[key] = p
	}
	for _, id := range fuzzCustomers[:2] {
		m.Customers[id] = &promotions.Customer{ID: id, Plan: fuzzPlans[c.next(2)],
			Attributes: map[string]string{"region": []string{"eu", "us"}[c.next(2)]}}
		if c.next(3) == 2 {
			m.Customers[id].BillingAnchor = ptr(instant(c).Add(time.Duration(c.next(60)) * 24 * time.Hour))
		}
	}
	n := c.next(6)
	for i := 0; i < n; i++ {
		p := &promotions.Promotion{ID: fmt.Sprintf("promo-%d", i), Status: promotions.StatusActive, IsApplied: true}
		if c.next(4) == 0 {
			p.Status = promotions.StatusDeactivated
			p.DeactivatedAt = ptr(instant(c))
		}
		if c.next(2) == 0 {
			p.Feature, p.FeatureType = "flag", promotions.FeatureBoolean
		} else {
			p.Feature, p.FeatureType = "meter", promotions.FeatureMetered
			mode := promotions.ModeAdditive
			if c.next(2) == 1 {
				mode = promotions.ModeOverride
			}
			p.Metered = &promotions.Metered{Mode: mode, Allowance: randomAllowance(c), Reset: resets[c.next(len(resets))]}
		}
		if c.next(2) == 1 {
			p.Duration = &promotions.Duration{Value: 1 + c.next(3), Unit: []promotions.DurationUnit{promotions.UnitDays, promotions.UnitWeeks, promotions.UnitMonths}[c.next(3)]}
			if c.next(8) == 7 {
				// Long enough to carry a grant across 2262, or past 9999.
				p.Duration = &promotions.Duration{Value: 237, Unit: promotions.UnitYears}
			}
		}
		switch c.next(3) {
		case 1:
			p.Eligibility = &promotions.Eligibility{Plans: []string{fuzzPlans[c.next(2)]}}
		case 2:
			p.Eligibility = &promotions.Eligibility{Attributes: map[string][]string{"region": {"eu"}}}
		}
		if c.next(2) == 1 {
			p.Grants.All = &promotions.AllGrant{GrantedAt: instant(c)}
			if c.next(2) == 1 {
				p.Grants.All.RevokedAt = ptr(p.Grants.All.GrantedAt.Add(time.Duration(c.next(48)) * time.Hour))
			}
		}
		for _, id := range fuzzCustomers {
			switch c.next(3) {
			case 1:
				g := promotions.CustomerGrant{ID: id, State: promotions.StateGranted, GrantedAt: instant(c)}
				g.Previous, g.GrantedAt = randomHistory(c, g.GrantedAt)
				p.Grants.Customers = append(p.Grants.Customers, g)
			case 2:
				g := promotions.CustomerGrant{ID: id, State: promotions.StateRevoked, GrantedAt: instant(c)}
				g.Previous, g.GrantedAt = randomHistory(c, g.GrantedAt)
				g.RevokedAt = ptr(g.GrantedAt.Add(time.Duration(c.next(48)) * time.Hour))
				p.Grants.Customers = append(p.Grants.Customers, g)
			}
		}
		m.Promotions[p.ID] = p
	}
	return m
}

// randomHistory turns a grant starting at start into zero to two earlier
// periods, each revoked (so that they end) before the next begins, and
// returns them with the current period's granted_at.
func randomHistory(c *choices, start time.Time) ([]promotions.Period, time.Time) {
	var previous []promotions.Period
	for n := c.next(3); n > 0; n-- {
		revoked := start.Add(time.Duration(c.next(24)) * time.Hour)
		previous = append(previous, promotions.Period{GrantedAt: start, RevokedAt: ptr(revoked)})
		start = revoked.Add(time.Duration(c.next(24)) * time.Hour)
	}
	return previous, start
}

func ptr[T any](v T) *T { return &v }

// deciding returns the periods of the grant that decides whether p
// applies to customer at t: their own entry from its first granted_at on,
// before that (or without an entry) grants.all.
func deciding(p *promotions.Promotion, customer string, t time.Time) ([]promotions.Period, bool) {
	var entry []promotions.Period
	for _, g := range p.Grants.Customers {
		if g.ID == customer {
			entry = append(append(entry, g.Previous...), promotions.Period{GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt})
			break
		}
	}
	if entry != nil && !t.Before(entry[0].GrantedAt) {
		return entry, true
	}
	if p.Grants.All != nil {
		a := p.Grants.All
		return append(append([]promotions.Period(nil), a.Previous...), promotions.Period{GrantedAt: a.GrantedAt, RevokedAt: a.RevokedAt}), true
	}
	return entry, entry != nil
}

// holds reports whether a period runs at t: from granted_at, until the
// first of its natural end, its revoked_at and the promotion's
// deactivated_at.
func holds(p *promotions.Promotion, per promotions.Period, t time.Time) bool {
	if t.Before(per.GrantedAt) {
		return false
	}
	if per.RevokedAt != nil && !t.Before(*per.RevokedAt) {
		return false
	}
	if p.DeactivatedAt != nil && !t.Before(*p.DeactivatedAt) {
		return false
	}
	if end := p.GrantEnd(per.GrantedAt); end != nil && !t.Before(*end) {
		return false
	}
	return true
}

// shouldContribute is decision rule 2 (README, "How a decision is made"), written out independently of the
// evaluator's indexes.
func shouldContribute(m *promotions.Model, p *promotions.Promotion, q evaluator.Query) bool {
	if p.Feature != q.Feature {
		return false
	}
	plan, region := q.Plan, ""
	if c := m.Customers[q.Customer]; c != nil {
		if plan == "" {
			plan = c.Plan
		}
		region = c.Attributes["region"]
	}
	if e := p.Eligibility; e != nil {
		if len(e.Plans) > 0 && !contains(e.Plans, plan) {
			return false
		}
		if allowed, ok := e.Attributes["region"]; ok && (region == "" || !contains(allowed, region)) {
			return false
		}
	}
	periods, ok := deciding(p, q.Customer, q.At)
	if !ok {
		return false
	}
	for _, per := range periods {
		if holds(p, per, q.At) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func checkSources(t *testing.T, m *promotions.Model, q evaluator.Query, d evaluator.Decision) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range d.Sources {
		if s.Kind != "promotion" {
			continue
		}
		p := m.Promotions[s.ID]
		if p == nil {
			t.Fatalf("%+v: source %s names no promotion", q, s.ID)
		}
		if p.DeactivatedAt != nil && !q.At.Before(*p.DeactivatedAt) {
			t.Fatalf("%+v: promotion %s contributes at or after its deactivated_at", q, s.ID)
		}
		if periods, _ := deciding(p, q.Customer, q.At); len(periods) > 0 {
			if last := periods[len(periods)-1]; last.RevokedAt != nil && !q.At.Before(*last.RevokedAt) {
				t.Fatalf("%+v: promotion %s contributes at or after its last revoked_at %s", q, s.ID, last.RevokedAt)
			}
		}
		if !shouldContribute(m, p, q) {
			t.Fatalf("%+v: promotion %s contributes but should not", q, s.ID)
		}
		seen[s.ID] = true
	}
	for id, p := range m.Promotions {
		if shouldContribute(m, p, q) && !seen[id] {
			t.Fatalf("%+v: promotion %s should contribute but is not a source (sources %+v)", q, id, d.Sources)
		}
	}
}

func checkUnlimitedAbsorbs(t *testing.T, d evaluator.Decision) {
	t.Helper()
	if d.FeatureType != promotions.FeatureMetered {
		return
	}
	unlimited, baselineUnlimited, overridden := false, false, false
	for _, s := range d.Sources {
		switch {
		case s.Kind == "plan":
			baselineUnlimited = s.Allowance.Unlimited
		case s.Allowance.Unlimited:
			unlimited = true
		}
		if s.Kind == "promotion" && s.Mode == promotions.ModeOverride {
			overridden = true
		}
	}
	if (unlimited || (baselineUnlimited && !overridden)) && !d.Allowance.Unlimited {
		t.Fatalf("%s/%s at %s: an unlimited source did not absorb: allowance %s, sources %+v", d.Customer, d.Feature, d.At, d.Allowance, d.Sources)
	}
	if d.Allowance.Unlimited && !d.HasAccess {
		t.Fatalf("%s/%s: unlimited without access", d.Customer, d.Feature)
	}
}

// withAdditiveGrant is m plus, for each feature, one more promotion
// (additive, for the metered feature) granted to every customer since
// before the first instant a query asks about.
func withAdditiveGrant(t *testing.T, m *promotions.Model, extra promotions.Allowance) *snapshot.Snapshot {
	t.Helper()
	more := *m
	more.Promotions = make(map[string]*promotions.Promotion, len(m.Promotions)+2)
	for id, p := range m.Promotions {
		more.Promotions[id] = p
	}
	var grants []promotions.CustomerGrant
	for _, id := range fuzzCustomers {
		grants = append(grants, promotions.CustomerGrant{ID: id, State: promotions.StateGranted, GrantedAt: fuzzEpoch.Add(-time.Hour)})
	}
	more.Promotions["zz-extra-flag"] = &promotions.Promotion{ID: "zz-extra-flag", Status: promotions.StatusActive, IsApplied: true,
		Feature: "flag", FeatureType: promotions.FeatureBoolean, Grants: promotions.Grants{Customers: grants}}
	more.Promotions["zz-extra-meter"] = &promotions.Promotion{ID: "zz-extra-meter", Status: promotions.StatusActive, IsApplied: true,
		Feature: "meter", FeatureType: promotions.FeatureMetered, Grants: promotions.Grants{Customers: grants},
		Metered: &promotions.Metered{Mode: promotions.ModeAdditive, Allowance: extra, Reset: promotions.ResetMonthly}}
	snap, err := snapshot.Build(&more, "fuzz+1")
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return snap
}

// checkAdditiveMonotone decides q again with the additive grants of
// withAdditiveGrant, and compares.
func checkAdditiveMonotone(t *testing.T, withExtra *snapshot.Snapshot, q evaluator.Query, before evaluator.Decision) {
	t.Helper()
	after, err := evaluator.Decide(withExtra, q)
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	if after.Allowance.Less(before.Allowance) {
		t.Fatalf("%+v: adding an additive grant lowered the allowance from %s to %s (sources %+v)", q, before.Allowance, after.Allowance, after.Sources)
	}
	if before.HasAccess && !after.HasAccess {
		t.Fatalf("%+v: adding an additive grant took access away", q)
	}
}
