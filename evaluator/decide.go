package evaluator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/internal/suggest"
	"github.com/promoctl/promoctl/promotions"
)

// ErrFeatureNotFound is returned for a feature the snapshot does not define.
var ErrFeatureNotFound = errors.New("feature not found")

// ErrTimeOutOfRange is returned for a query instant outside the years
// 0001–9999 (UTC), which no answer could echo as RFC 3339.
var ErrTimeOutOfRange = errors.New("the query instant is outside the years 0001 to 9999 (UTC)")

// UnknownPlanError is returned for a query whose plan the snapshot does not
// define: a typo must not silently become "no baseline".
type UnknownPlanError struct {
	Plan string
	// Closest lists the known plans nearest to Plan, best first.
	Closest []string
}

func (e *UnknownPlanError) Error() string {
	return fmt.Sprintf("plan %q is not defined%s", e.Plan, suggest.DidYouMean(e.Closest))
}

// Query asks for one decision. Plan and Attributes, when set, take the place
// of the directory's for this query: the plan replaces the customer's plan,
// and each attribute given replaces the directory's attribute of that name.
type Query struct {
	Customer   string
	Feature    string
	At         time.Time
	Plan       string
	Attributes map[string]string
	// Explain asks for the why-not list (Decision.NotContributing). It is
	// off on the sidecar's hot path.
	Explain bool
}

// SourceKind says what a source is.
type SourceKind string

// The kinds of source.
const (
	SourcePlan      SourceKind = "plan" // the customer's plan: the baseline
	SourcePromotion SourceKind = "promotion"
)

// Source is one contributor to a decision: the plan baseline or a promotion.
// Fields are values, not pointers, so that building a decision allocates
// nothing per source.
type Source struct {
	Kind      SourceKind
	ID        string
	Mode      promotions.Mode // promotions of metered features
	Metered   bool            // Allowance and Reset are set
	Allowance promotions.Allowance
	Reset     promotions.Reset
	Grant     string    // "customer" or "all", for promotions
	GrantedAt time.Time // promotions
	// ValidUntil is when the promotion's grant ends; zero when it never does.
	ValidUntil time.Time
}

// ReplacedBy names the override promotion that replaces source s of d
// (the plan baseline, or an override that ranks lower), so that the
// sources that count add up to the answer; "" when none does. It is
// derived from Decision.Override rather than stored in every Source, which
// is on the hot path.
func (d Decision) ReplacedBy(s Source) string { return replacedBy(d.Override, &s) }

func replacedBy(override string, s *Source) string {
	if override != "" && (s.Kind == SourcePlan || (s.Mode == promotions.ModeOverride && s.ID != override)) {
		return override
	}
	return ""
}

// Reason says why a promotion for the feature does not contribute.
type Reason string

// Reasons, in the order the first that applies is given (docs/apply-flow.md).
const (
	ReasonDeactivated       Reason = "deactivated"
	ReasonNotEligible       Reason = "not_eligible"
	ReasonNotGranted        Reason = "not_granted"
	ReasonScheduled         Reason = "scheduled"
	ReasonExpired           Reason = "expired"
	ReasonRevoked           Reason = "revoked"
	ReasonOverriddenByEntry Reason = "overridden_by_entry"
)

// NotContributing is one promotion for the feature that gives nothing at
// the query's instant, with the first reason that applies.
type NotContributing struct {
	ID     string
	Reason Reason
	// Rule is the eligibility rule that failed ("plans",
	// "attributes.region"), for not_eligible.
	Rule   string
	Detail string
}

// Decision is the answer to a query (README, "How a decision is made").
type Decision struct {
	Customer    string
	Feature     string
	FeatureType promotions.FeatureType
	HasAccess   bool
	// Allowance is the sum of the buckets that count: this instant's
	// ceiling, not a quota per period (metered features).
	Allowance promotions.Allowance
	// Reset is the buckets' common reset, or ResetMixed (metered features).
	Reset promotions.Reset
	// NextReset is the earliest end of a current period among the buckets
	// that count; zero when none ends (metered features).
	NextReset time.Time
	// Buckets are the allowances that count at the decision's instant, in
	// consumption order (metered features).
	Buckets []Bucket
	// Replaced are the buckets the winning override replaces — the plan's
	// and those of lower-ranking overrides — with their current periods;
	// usage keeps their counters suspended meanwhile.
	Replaced []Bucket
	// ValidUntil is the earliest end among contributing grants; zero when
	// none ends or none contributes.
	ValidUntil time.Time
	Sources    []Source
	At         time.Time
	Revision   string
	// Promoted is true when at least one promotion contributes.
	Promoted bool
	// Override is the id of the override promotion in force, if any.
	Override string
	// Directory says the repo has a customer directory; CustomerKnown
	// whether it knows the customer (meaningless without a directory).
	Directory     bool
	CustomerKnown bool
	// NotContributing is the why-not list, filled when the query asks.
	NotContributing []NotContributing
}

// Decide evaluates q against snapshot s. It reads only through s's
// indexes: the feature (with its grants.all and its entitlement in each
// plan), the customer, and the customer's grants for the feature.
func Decide(s *snapshot.Snapshot, q Query) (Decision, error) {
	if !promotions.InRange(q.At) {
		return Decision{}, ErrTimeOutOfRange
	}
	r := s.Read()
	feature := r.Feature(q.Feature)
	if feature == nil {
		return Decision{}, ErrFeatureNotFound
	}
	d := Decision{Customer: q.Customer, Feature: feature.Key, FeatureType: feature.Type, At: q.At, Revision: s.Revision}
	metered := feature.Type == promotions.FeatureMetered
	if q.Plan != "" && r.Plan(q.Plan) == nil {
		return Decision{}, &UnknownPlanError{Plan: q.Plan, Closest: closestPlans(r, q.Plan)}
	}

	who := &subject{plan: q.Plan, overrides: q.Attributes}
	c, entries := r.CustomerAndGrants(q.Customer, feature.Key)
	if c != nil {
		who.customer = c
		if who.plan == "" {
			who.plan = c.Plan
		}
	}
	d.Directory, d.CustomerKnown = s.Model != nil && s.Model.HasDirectory, who.customer != nil

	var baseline *snapshot.PlanEntitlementRow
	planKey := who.plan
	if e, ok := feature.Baseline[who.plan]; ok {
		baseline = &e
	}

	t := snapshot.Micros(q.At)
	var buf [16]contribution
	contributing := buf[:0]
	for _, g := range entries {
		if span, ok := g.Holding(t); ok && who.eligible(g.Promotion) {
			contributing = append(contributing, contribution{promo: g.Promotion, grant: "customer", grantedAt: span.From, until: span.Until})
		}
	}
	for _, g := range feature.AllGrants {
		if entryDecides(entries, g.Promotion, t) {
			continue // the customer's own entry decides for this promotion
		}
		if span, ok := g.Holding(t); ok && who.eligible(g.Promotion) {
			contributing = append(contributing, contribution{promo: g.Promotion, grant: "all", grantedAt: span.From, until: span.Until})
		}
	}
	slices.SortFunc(contributing, func(a, b contribution) int { return strings.Compare(a.promo.ID, b.promo.ID) })
	if q.Explain {
		d.NotContributing = whyNot(r, feature, who, entries, contributing, t)
	}

	d.Sources = make([]Source, 0, len(contributing)+1)
	if baseline != nil {
		src := Source{Kind: SourcePlan, ID: planKey}
		if metered {
			src.Metered, src.Allowance, src.Reset = true, baseline.Allowance, baseline.Reset
		}
		d.Sources = append(d.Sources, src)
	}
	d.Promoted = len(contributing) > 0
	validUntil := snapshot.Forever
	for _, c := range contributing {
		validUntil = min(validUntil, c.until)
		d.Sources = append(d.Sources, c.source(metered))
	}
	if validUntil != snapshot.Forever {
		d.ValidUntil = snapshot.TimeOf(validUntil)
	}

	if !metered {
		d.HasAccess = baseline != nil || len(contributing) > 0
		return d, nil
	}
	var anchor *time.Time
	if who.customer != nil {
		anchor = who.customer.BillingAnchor
	}
	d.meter(baseline, anchor, contributing, t)
	d.HasAccess = d.Allowance.Unlimited || d.Allowance.Value > 0
	return d, nil
}

// entryDecides reports whether the customer's entry of p decides at t: it
// does from its first granted_at on; before that, grants.all does.
func entryDecides(entries []*snapshot.GrantRow, p *snapshot.PromotionRow, t int64) bool {
	for _, g := range entries {
		if g.Promotion == p {
			return g.First() <= t
		}
	}
	return false
}

func closestPlans(r snapshot.Reader, plan string) []string {
	plans := r.Plans()
	keys := make([]string, len(plans))
	for i, p := range plans {
		keys[i] = p.Key
	}
	return suggest.Closest(plan, keys)
}

type contribution struct {
	promo     *snapshot.PromotionRow
	grant     string
	grantedAt int64
	until     int64
}

func (c contribution) source(metered bool) Source {
	src := Source{Kind: SourcePromotion, ID: c.promo.ID, Grant: c.grant, GrantedAt: snapshot.TimeOf(c.grantedAt)}
	if c.until != snapshot.Forever {
		src.ValidUntil = snapshot.TimeOf(c.until)
	}
	if metered && c.promo.Metered != nil {
		m := c.promo.Metered
		src.Mode, src.Metered, src.Allowance, src.Reset = m.Mode, true, m.Allowance, m.Reset
	}
	return src
}

// subject is who a query is about: the directory entry (if any) with the
// query's plan and attributes laid over it.
type subject struct {
	customer  *snapshot.CustomerRow
	plan      string
	overrides map[string]string
}

// Attribute implements promotions.Attributes.
func (s *subject) Attribute(key string) (string, bool) {
	if v, ok := s.overrides[key]; ok {
		return v, true
	}
	if s.customer != nil {
		return s.customer.Attribute(key)
	}
	return "", false
}

// eligible reports whether the subject may hold p now: eligibility has no
// history, so it is always the current directory record or the query's.
// Deactivation is not checked here: it ends every period at deactivated_at
// (the snapshot's Until), so what a promotion gave before stays given.
func (s *subject) eligible(p *snapshot.PromotionRow) bool {
	return p.Eligibility.Allows(s.plan, s)
}
