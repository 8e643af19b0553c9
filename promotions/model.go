package promotions

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kinds of document a config repo may hold.
const (
	KindFeature   = "Feature"
	KindPlan      = "Plan"
	KindCustomers = "Customers"
	KindPromotion = "PromotionalEntitlement"
)

// Kinds lists every known kind, in the order documents are reported.
var Kinds = []string{KindFeature, KindPlan, KindCustomers, KindPromotion}

// FeatureType says whether a feature is on/off or counted.
type FeatureType string

const (
	FeatureBoolean FeatureType = "boolean"
	FeatureMetered FeatureType = "metered"
)

// Reset is how often a metered allowance starts over.
type Reset string

const (
	ResetNever   Reset = "never"
	ResetDaily   Reset = "daily"
	ResetWeekly  Reset = "weekly"
	ResetMonthly Reset = "monthly"
	ResetYearly  Reset = "yearly"
)

// Mode says how a metered promotion combines with the baseline.
type Mode string

const (
	ModeAdditive Mode = "additive"
	ModeOverride Mode = "override"
)

// Status of a promotion.
type Status string

const (
	StatusActive      Status = "active"
	StatusDeactivated Status = "deactivated"
)

// GrantState of a customer entry.
type GrantState string

const (
	StateGranted GrantState = "granted"
	StateRevoked GrantState = "revoked"
)

// DurationUnit of a grant's duration.
type DurationUnit string

const (
	UnitDays   DurationUnit = "days"
	UnitWeeks  DurationUnit = "weeks"
	UnitMonths DurationUnit = "months"
	UnitYears  DurationUnit = "years"
)

// Allowance is a metered quantity. Unlimited is an explicit flag rather than
// a magic number so that arithmetic on Value can never overflow into it.
type Allowance struct {
	Value     int64
	Unlimited bool
}

// UnlimitedAllowance is the allowance that absorbs every other.
var UnlimitedAllowance = Allowance{Unlimited: true}

// Less orders allowances, unlimited being the largest.
func (a Allowance) Less(b Allowance) bool {
	switch {
	case a.Unlimited:
		return false
	case b.Unlimited:
		return true
	default:
		return a.Value < b.Value
	}
}

// Add sums two allowances; unlimited absorbs everything. A finite sum
// saturates at math.MaxInt64 instead of wrapping around to a negative
// allowance: adding a grant must never lower what a customer gets.
func (a Allowance) Add(b Allowance) Allowance {
	if a.Unlimited || b.Unlimited {
		return UnlimitedAllowance
	}
	if b.Value > 0 && a.Value > math.MaxInt64-b.Value {
		return Allowance{Value: math.MaxInt64}
	}
	return Allowance{Value: a.Value + b.Value}
}

func (a Allowance) String() string {
	if a.Unlimited {
		return "unlimited"
	}
	return strconv.FormatInt(a.Value, 10)
}

// Feature is something a customer may use.
type Feature struct {
	Key  string
	Name string
	Type FeatureType
	Unit string
	// Usage is how consumes are enforced (metered features); nil when the
	// file has no usage block, which means the defaults.
	Usage *FeatureUsage
	File  string
}

// Overage is what a consume beyond the balance does.
type Overage string

// Overage policies.
const (
	OverageBlock Overage = "block" // denied (the default)
	OverageSoft  Overage = "soft"  // allowed and counted as overage
)

// StoreFailure is what a consume does when the usage store fails.
type StoreFailure string

// Store failure policies.
const (
	StoreFailureAllow StoreFailure = "allow" // answered from the allowance alone (the default)
	StoreFailureDeny  StoreFailure = "deny"  // refused with 503
)

// FeatureUsage is a metered feature's usage block; empty fields take the
// defaults.
type FeatureUsage struct {
	Overage        Overage
	OnStoreFailure StoreFailure
}

// UsagePolicy is the feature's enforcement with defaults filled in.
func (f *Feature) UsagePolicy() FeatureUsage {
	u := FeatureUsage{Overage: OverageBlock, OnStoreFailure: StoreFailureAllow}
	if f.Usage != nil {
		if f.Usage.Overage != "" {
			u.Overage = f.Usage.Overage
		}
		if f.Usage.OnStoreFailure != "" {
			u.OnStoreFailure = f.Usage.OnStoreFailure
		}
	}
	return u
}

// Plan is a set of baseline entitlements.
type Plan struct {
	Key          string
	Name         string
	Entitlements []PlanEntitlement
	File         string
}

// PlanEntitlement is one feature of a plan. Allowance and Reset are set for
// metered features only.
type PlanEntitlement struct {
	Feature   string
	Allowance *Allowance
	Reset     Reset
}

// Customer is an entry of a Customers document.
type Customer struct {
	ID    string
	Name  string
	Email string
	Plan  string
	// Attributes is read-only: customers of one file with the same
	// attributes share the map.
	Attributes map[string]string
	// BillingAnchor, when set, anchors the periods of the plan's metered
	// allowances (a monthly plan resets on its day of the month) instead
	// of the UTC calendar.
	BillingAnchor *time.Time
	File          string
	Index         int // position in the file's customers list, for diagnostics
}

// CustomersFile is one Customers document.
type CustomersFile struct {
	Customers []Customer
	File      string
}

// Window is when a promotion can be granted: [Start, End), either side open
// when nil.
type Window struct {
	Start *time.Time
	End   *time.Time
}

// Contains reports whether t lies in the half-open window.
func (w Window) Contains(t time.Time) bool {
	if w.Start != nil && t.Before(*w.Start) {
		return false
	}
	if w.End != nil && !t.Before(*w.End) {
		return false
	}
	return true
}

// String renders the window as a half-open interval in UTC:
// [2026-03-01T00:00:00Z, +∞).
func (w Window) String() string {
	start, end := "-∞", "+∞"
	if w.Start != nil {
		start = FormatTime(*w.Start)
	}
	if w.End != nil {
		end = FormatTime(*w.End)
	}
	return "[" + start + ", " + end + ")"
}

// Duration is how long each grant lasts.
type Duration struct {
	Value int
	Unit  DurationUnit
}

// Metered is the metered part of a promotion.
type Metered struct {
	Mode      Mode
	Allowance Allowance
	Reset     Reset
}

// Eligibility restricts who may hold a promotion. Empty lists mean no
// restriction on that dimension.
type Eligibility struct {
	Plans      []string
	Attributes map[string][]string
}

// Attributes is where eligibility reads a customer's attributes from.
type Attributes interface {
	Attribute(key string) (string, bool)
}

// Allows reports whether a customer with the given plan and attributes is
// eligible. A nil Eligibility allows everyone.
func (e *Eligibility) Allows(plan string, attrs Attributes) bool {
	if e == nil {
		return true
	}
	if len(e.Plans) > 0 && !slices.Contains(e.Plans, plan) {
		return false
	}
	for key, allowed := range e.Attributes {
		v, ok := attrs.Attribute(key)
		if !ok || !slices.Contains(allowed, v) {
			return false
		}
	}
	return true
}

// AllGrant grants a promotion to every eligible customer. GrantedAt and
// RevokedAt are its current period; Previous its earlier ones, oldest first
// (nil when there is no history).
type AllGrant struct {
	GrantedAt time.Time
	RevokedAt *time.Time
	Previous  []Period
}

// CustomerGrant is one entry of grants.customers. GrantedAt and RevokedAt
// are its current period; Previous its earlier ones, oldest first (nil when
// there is no history).
type CustomerGrant struct {
	ID        string
	State     GrantState
	GrantedAt time.Time
	RevokedAt *time.Time
	Previous  []Period
}

// Grants of a promotion.
type Grants struct {
	All       *AllGrant
	Customers []CustomerGrant
}

// Promotion is a PromotionalEntitlement document.
type Promotion struct {
	ID            string
	Name          string
	Description   string
	Status        Status
	DeactivatedAt *time.Time
	Feature       string
	FeatureType   FeatureType
	Window        Window
	Duration      *Duration
	Metered       *Metered
	Eligibility   *Eligibility
	IsApplied     bool
	Grants        Grants
	File          string
}

// GrantEnd is when a grant made at grantedAt stops, or nil when it lasts
// forever. Months and years clamp to the end of the month.
func (p *Promotion) GrantEnd(grantedAt time.Time) *time.Time {
	if p.Duration == nil {
		return nil
	}
	end := AddDuration(grantedAt, *p.Duration)
	return &end
}

// Attribute returns one of the customer's attributes.
func (c *Customer) Attribute(key string) (string, bool) {
	v, ok := c.Attributes[key]
	return v, ok
}

// FailedRule names the first eligibility rule a customer with the given
// plan and attributes fails — "plans" or "attributes.<key>", attribute
// keys in order — and says why; "" when they are eligible.
func (e *Eligibility) FailedRule(plan string, attrs Attributes) (rule, detail string) {
	if e == nil {
		return "", ""
	}
	if len(e.Plans) > 0 && !slices.Contains(e.Plans, plan) {
		if plan == "" {
			return "plans", "no plan is known; eligible plans: " + strings.Join(e.Plans, ", ")
		}
		return "plans", "plan " + plan + " is not one of " + strings.Join(e.Plans, ", ")
	}
	for _, key := range SortedKeys(e.Attributes) {
		allowed := e.Attributes[key]
		v, ok := attrs.Attribute(key)
		switch {
		case !ok:
			return "attributes." + key, "no attribute " + key + "; expected one of " + strings.Join(allowed, ", ")
		case !slices.Contains(allowed, v):
			return "attributes." + key, key + " " + v + " is not one of " + strings.Join(allowed, ", ")
		}
	}
	return "", ""
}

// String renders eligibility rules for messages.
func (e *Eligibility) String() string {
	if e == nil {
		return "everyone"
	}
	s := ""
	if len(e.Plans) > 0 {
		s = "plans " + strings.Join(e.Plans, "|")
	}
	for _, k := range SortedKeys(e.Attributes) {
		if s != "" {
			s += ", "
		}
		s += k + " " + strings.Join(e.Attributes[k], "|")
	}
	if s == "" {
		return "everyone"
	}
	return s
}

// Quantity renders n of the unit, such as "3 months".
func (u DurationUnit) Quantity(n int) string { return strconv.Itoa(n) + " " + string(u) }

// Matches reports whether a search query matches the customer's id, name
// or email, case-insensitively. An empty query matches everyone.
func (c *Customer) Matches(query string) bool {
	return MatchesQuery(query, c.ID, c.Name, c.Email)
}

// MatchesQuery reports whether query is a case-insensitive substring of
// any of fields; an empty query matches everything.
func MatchesQuery(query string, fields ...string) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return true
	}
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// Model is a whole config repo decoded into the domain model. Maps are keyed
// by feature key, plan key, customer id and promotion id. A Model handed to
// a snapshot is read, never changed: snapshots and the load cache share its
// objects.
type Model struct {
	Features   map[string]*Feature
	Plans      map[string]*Plan
	Customers  map[string]*Customer
	Promotions map[string]*Promotion
	// HasDirectory is true when at least one Customers file exists; only
	// then are grant customer ids checked against it.
	HasDirectory bool
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{
		Features:   map[string]*Feature{},
		Plans:      map[string]*Plan{},
		Customers:  map[string]*Customer{},
		Promotions: map[string]*Promotion{},
	}
}

// PromotionIDs returns promotion ids in order.
func (m *Model) PromotionIDs() []string { return SortedKeys(m.Promotions) }

// CustomerIDs returns customer ids in order.
func (m *Model) CustomerIDs() []string { return SortedKeys(m.Customers) }

// SortedPromotions returns the model's promotions in id order, so that
// whatever is derived from them comes out in a stable order.
func (m *Model) SortedPromotions() []*Promotion {
	out := make([]*Promotion, 0, len(m.Promotions))
	for _, p := range m.Promotions {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// GrantCount is the number of grants.customers entries of all promotions.
func (m *Model) GrantCount() int {
	n := 0
	for _, p := range m.Promotions {
		n += len(p.Grants.Customers)
	}
	return n
}
