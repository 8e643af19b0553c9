package evaluator

import (
	"errors"
	"sort"
	"time"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions"
)

// ErrFeatureNotFound is returned for a feature the snapshot does not define.
var ErrFeatureNotFound = errors.New("feature not found")

// Query asks for one decision. Plan and Attributes, when set, take the place
// of the directory's for this query: the plan replaces the customer's plan,
// and each attribute given replaces the directory's attribute of that name.
type Query struct {
	Customer   string
	Feature    string
	At         time.Time
	Plan       string
	Attributes map[string]string
}

// Source is one contributor to a decision: the plan baseline or a promotion.
type Source struct {
	Kind       string // "plan" or "promotion"
	ID         string
	Mode       promotions.Mode       // promotions of metered features
	Allowance  *promotions.Allowance // metered features
	Reset      promotions.Reset      // metered features
	Grant      string                // "customer" or "all", for promotions
	GrantedAt  time.Time             // promotions
	ValidUntil *time.Time            // promotions; nil when the grant never ends
}

// Decision is the answer to a query (SPEC §5).
type Decision struct {
	Customer    string
	Feature     string
	FeatureType promotions.FeatureType
	HasAccess   bool
	Allowance   promotions.Allowance // metered features
	Reset       promotions.Reset     // metered features
	ValidUntil  *time.Time
	Sources     []Source
	At          time.Time
	Revision    string
	// Promoted is true when at least one promotion contributes.
	Promoted bool
}

// Decide evaluates q against snapshot s. It only reads through s's indexes.
func Decide(s *compiler.Snapshot, q Query) (Decision, error) {
	r := s.Read()
	feature := r.Feature(q.Feature)
	if feature == nil {
		return Decision{}, ErrFeatureNotFound
	}
	d := Decision{Customer: q.Customer, Feature: feature.Key, FeatureType: feature.Type, At: q.At, Revision: s.Revision}

	who := subject{plan: q.Plan, overrides: q.Attributes}
	if c := r.Customer(q.Customer); c != nil {
		who.customer = c
		if who.plan == "" {
			who.plan = c.Plan
		}
	}

	var baseline *compiler.PlanEntitlementRow
	if who.plan != "" {
		if plan := r.Plan(who.plan); plan != nil {
			if e, ok := plan.Entitlements[feature.Key]; ok {
				baseline = &e
				src := Source{Kind: "plan", ID: plan.Key}
				if feature.Type == promotions.FeatureMetered {
					a := e.Allowance
					src.Allowance, src.Reset = &a, e.Reset
				}
				d.Sources = append(d.Sources, src)
			}
		}
	}

	t := q.At.UnixNano()
	var contributing []contribution
	// A customer's own entry decides for its promotion, whether or not it
	// is active: grants.all never applies over it.
	var withEntry []string
	r.CustomerGrants(q.Customer, feature.Key, func(g *compiler.GrantRow) bool {
		withEntry = append(withEntry, g.Promotion.ID)
		if g.Active(t) && who.contributes(g.Promotion) {
			contributing = append(contributing, contribution{promo: g.Promotion, grant: "customer", grantedAt: g.GrantedAt, until: g.Until})
		}
		return true
	})
	r.AllGrants(feature.Key, func(g *compiler.AllGrantRow) bool {
		for _, id := range withEntry {
			if id == g.Promotion.ID {
				return true
			}
		}
		if g.Active(t) && who.contributes(g.Promotion) {
			contributing = append(contributing, contribution{promo: g.Promotion, grant: "all", grantedAt: g.GrantedAt, until: g.Until})
		}
		return true
	})
	sort.Slice(contributing, func(i, j int) bool { return contributing[i].promo.ID < contributing[j].promo.ID })

	d.Promoted = len(contributing) > 0
	validUntil := compiler.Forever
	for _, c := range contributing {
		if c.until < validUntil {
			validUntil = c.until
		}
		d.Sources = append(d.Sources, c.source(feature.Type))
	}
	if validUntil != compiler.Forever {
		vu := time.Unix(0, validUntil).UTC()
		d.ValidUntil = &vu
	}

	if feature.Type == promotions.FeatureBoolean {
		d.HasAccess = baseline != nil || len(contributing) > 0
		return d, nil
	}
	d.Allowance, d.Reset = meter(baseline, contributing)
	d.HasAccess = d.Allowance.Unlimited || d.Allowance.Value > 0
	return d, nil
}

// meter combines a metered baseline with contributing promotions: the best
// override replaces the baseline, every additive adds on top, unlimited
// absorbs everything.
func meter(baseline *compiler.PlanEntitlementRow, contributing []contribution) (promotions.Allowance, promotions.Reset) {
	var total promotions.Allowance
	var reset promotions.Reset
	if baseline != nil {
		total, reset = baseline.Allowance, baseline.Reset
	}
	var best *contribution
	for i := range contributing {
		c := &contributing[i]
		if c.promo.Metered.Mode == promotions.ModeOverride && (best == nil || c.beats(best)) {
			best = c
		}
	}
	if best != nil {
		total, reset = best.promo.Metered.Allowance, best.promo.Metered.Reset
	}
	for _, c := range contributing {
		if c.promo.Metered.Mode != promotions.ModeAdditive {
			continue
		}
		total = total.Add(c.promo.Metered.Allowance)
		if reset == "" {
			reset = c.promo.Metered.Reset // no baseline, no override: the first additive's
		}
	}
	return total, reset
}

type contribution struct {
	promo     *compiler.PromotionRow
	grant     string
	grantedAt int64
	until     int64
}

// beats orders overrides: highest allowance, then earliest granted_at,
// then smallest id.
func (c *contribution) beats(o *contribution) bool {
	a, b := c.promo.Metered.Allowance, o.promo.Metered.Allowance
	if a != b {
		return b.Less(a)
	}
	if c.grantedAt != o.grantedAt {
		return c.grantedAt < o.grantedAt
	}
	return c.promo.ID < o.promo.ID
}

func (c contribution) source(ft promotions.FeatureType) Source {
	src := Source{Kind: "promotion", ID: c.promo.ID, Grant: c.grant, GrantedAt: time.Unix(0, c.grantedAt).UTC()}
	if c.until != compiler.Forever {
		vu := time.Unix(0, c.until).UTC()
		src.ValidUntil = &vu
	}
	if ft == promotions.FeatureMetered && c.promo.Metered != nil {
		a := c.promo.Metered.Allowance
		src.Mode, src.Allowance, src.Reset = c.promo.Metered.Mode, &a, c.promo.Metered.Reset
	}
	return src
}

// subject is who a query is about: the directory entry (if any) with the
// query's plan and attributes laid over it.
type subject struct {
	customer  *compiler.CustomerRow
	plan      string
	overrides map[string]string
}

func (s *subject) attribute(key string) (string, bool) {
	if v, ok := s.overrides[key]; ok {
		return v, true
	}
	if s.customer != nil {
		return s.customer.Attribute(key)
	}
	return "", false
}

// contributes reports whether an active grant of p counts for this subject:
// the promotion is active now and the subject is eligible now.
func (s *subject) contributes(p *compiler.PromotionRow) bool {
	return p.Status == promotions.StatusActive && p.Eligibility.Allows(s.plan, s.attribute)
}
