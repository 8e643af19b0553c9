package evaluator_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func tp(s string) *time.Time { t := ts(s); return &t }

func allowance(n int64) *promotions.Allowance { return &promotions.Allowance{Value: n} }

// fixture: features sso (boolean) and api (metered); plans starter (api
// 1000 monthly), growth (api 10000 monthly + sso), enterprise (api
// unlimited); customers c1 (starter, eu) and c2 (growth, us).
func fixture(promos ...*promotions.Promotion) *promotions.Model {
	m := &promotions.Model{
		Features: map[string]*promotions.Feature{
			"sso": {Key: "sso", Type: promotions.FeatureBoolean},
			"api": {Key: "api", Type: promotions.FeatureMetered},
		},
		Plans: map[string]*promotions.Plan{
			"starter": {Key: "starter", Entitlements: []promotions.PlanEntitlement{
				{Feature: "api", Allowance: allowance(1000), Reset: promotions.ResetMonthly}}},
			"growth": {Key: "growth", Entitlements: []promotions.PlanEntitlement{
				{Feature: "api", Allowance: allowance(10000), Reset: promotions.ResetMonthly}, {Feature: "sso"}}},
			"enterprise": {Key: "enterprise", Entitlements: []promotions.PlanEntitlement{
				{Feature: "api", Allowance: &promotions.UnlimitedAllowance, Reset: promotions.ResetMonthly}}},
			"free": {Key: "free", Entitlements: []promotions.PlanEntitlement{
				{Feature: "api", Allowance: allowance(0), Reset: promotions.ResetNever}}},
		},
		Customers: map[string]*promotions.Customer{
			"c1": {ID: "c1", Plan: "starter", Attributes: map[string]string{"region": "eu"}},
			"c2": {ID: "c2", Plan: "growth", Attributes: map[string]string{"region": "us"}},
		},
		Promotions:   map[string]*promotions.Promotion{},
		HasDirectory: true,
	}
	for _, p := range promos {
		m.Promotions[p.ID] = p
	}
	return m
}

// promo builds an active, applied metered promotion on api. Options tweak it.
func promo(id string, mode promotions.Mode, amount promotions.Allowance, opts ...func(*promotions.Promotion)) *promotions.Promotion {
	p := &promotions.Promotion{
		ID: id, Status: promotions.StatusActive, Feature: "api", FeatureType: promotions.FeatureMetered,
		Metered:   &promotions.Metered{Mode: mode, Allowance: amount, Reset: promotions.ResetMonthly},
		IsApplied: true,
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func boolPromo(id string, opts ...func(*promotions.Promotion)) *promotions.Promotion {
	p := &promotions.Promotion{ID: id, Status: promotions.StatusActive, Feature: "sso", FeatureType: promotions.FeatureBoolean, IsApplied: true}
	for _, o := range opts {
		o(p)
	}
	return p
}

func grant(customer, at string) func(*promotions.Promotion) {
	return func(p *promotions.Promotion) {
		p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{ID: customer, State: promotions.StateGranted, GrantedAt: ts(at)})
	}
}

func revoked(customer, at, revokedAt string) func(*promotions.Promotion) {
	return func(p *promotions.Promotion) {
		p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{ID: customer, State: promotions.StateRevoked, GrantedAt: ts(at), RevokedAt: tp(revokedAt)})
	}
}

func grantAll(at string) func(*promotions.Promotion) {
	return func(p *promotions.Promotion) { p.Grants.All = &promotions.AllGrant{GrantedAt: ts(at)} }
}

func lasting(v int, unit promotions.DurationUnit) func(*promotions.Promotion) {
	return func(p *promotions.Promotion) { p.Duration = &promotions.Duration{Value: v, Unit: unit} }
}

func reset(r promotions.Reset) func(*promotions.Promotion) {
	return func(p *promotions.Promotion) { p.Metered.Reset = r }
}

func eligiblePlans(plans ...string) func(*promotions.Promotion) {
	return func(p *promotions.Promotion) { p.Eligibility = &promotions.Eligibility{Plans: plans} }
}

func eligibleAttr(key string, values ...string) func(*promotions.Promotion) {
	return func(p *promotions.Promotion) {
		p.Eligibility = &promotions.Eligibility{Attributes: map[string][]string{key: values}}
	}
}

func deactivated(p *promotions.Promotion) {
	p.Status = promotions.StatusDeactivated
	p.DeactivatedAt = tp("2026-03-15T00:00:00Z")
}

const (
	granted = "2026-03-01T00:00:00Z"
	at      = "2026-04-01T00:00:00Z"
)

type want struct {
	access     bool
	allowance  promotions.Allowance
	reset      promotions.Reset
	validUntil *time.Time
	promotions []string // contributing promotions, in source order
	override   string   // the winning override, when the case is about it
}

func TestDecide(t *testing.T) {
	unlimited := promotions.UnlimitedAllowance
	n := func(v int64) promotions.Allowance { return promotions.Allowance{Value: v} }
	tests := []struct {
		name  string
		model *promotions.Model
		query evaluator.Query
		want  want
	}{
		{
			name:  "metered baseline only",
			model: fixture(),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(1000), reset: promotions.ResetMonthly},
		},
		{
			name:  "boolean feature outside the plan has no access",
			model: fixture(),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(at)},
			want:  want{access: false},
		},
		{
			name:  "boolean feature in the plan has access",
			model: fixture(),
			query: evaluator.Query{Customer: "c2", Feature: "sso", At: ts(at)},
			want:  want{access: true},
		},
		{
			name:  "boolean promotion grants access",
			model: fixture(boolPromo("trial", grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(at)},
			want:  want{access: true, promotions: []string{"trial"}},
		},
		{
			name:  "additive adds to the baseline",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(1500), reset: promotions.ResetMonthly, promotions: []string{"boost"}},
		},
		{
			name:  "override replaces the baseline even when lower",
			model: fixture(promo("cap", promotions.ModeOverride, n(300), grant("c1", granted), reset(promotions.ResetDaily))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(300), reset: promotions.ResetDaily, promotions: []string{"cap"}},
		},
		{
			name: "highest override wins",
			model: fixture(
				promo("low", promotions.ModeOverride, n(3000), grant("c1", granted)),
				promo("high", promotions.ModeOverride, n(7000), grant("c1", "2026-03-05T00:00:00Z"), reset(promotions.ResetWeekly)),
			),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(7000), reset: promotions.ResetWeekly, promotions: []string{"high", "low"}},
		},
		{
			name: "equal overrides: earliest granted_at wins",
			model: fixture(
				promo("a-late", promotions.ModeOverride, n(5000), grant("c1", "2026-03-10T00:00:00Z"), reset(promotions.ResetYearly)),
				promo("b-early", promotions.ModeOverride, n(5000), grant("c1", "2026-03-02T00:00:00Z"), reset(promotions.ResetYearly)),
			),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(5000), reset: promotions.ResetYearly, promotions: []string{"a-late", "b-early"}, override: "b-early"},
		},
		{
			name: "equal overrides granted together: smallest id wins",
			model: fixture(
				promo("b", promotions.ModeOverride, n(5000), grant("c1", granted), reset(promotions.ResetDaily)),
				promo("a", promotions.ModeOverride, n(5000), grant("c1", granted), reset(promotions.ResetDaily)),
			),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(5000), reset: promotions.ResetDaily, promotions: []string{"a", "b"}, override: "a"},
		},
		{
			name: "override plus additive",
			model: fixture(
				promo("cap", promotions.ModeOverride, n(300), grant("c1", granted)),
				promo("boost", promotions.ModeAdditive, n(500), grant("c1", granted)),
			),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(800), reset: promotions.ResetMonthly, promotions: []string{"boost", "cap"}},
		},
		{
			name:  "unlimited additive absorbs everything",
			model: fixture(promo("free-for-all", promotions.ModeAdditive, unlimited, grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: unlimited, reset: promotions.ResetMonthly, promotions: []string{"free-for-all"}},
		},
		{
			name:  "override replaces even an unlimited baseline",
			model: fixture(promo("cap", promotions.ModeOverride, n(10), grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at), Plan: "enterprise"},
			want:  want{access: true, allowance: n(10), reset: promotions.ResetMonthly, promotions: []string{"cap"}},
		},
		{
			name:  "additive on an unlimited plan stays unlimited",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at), Plan: "enterprise"},
			want:  want{access: true, allowance: unlimited, reset: promotions.ResetMonthly, promotions: []string{"boost"}},
		},
		{
			name:  "revoked entry contributes before revoked_at",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), revoked("c1", granted, "2026-04-01T00:00:01Z"))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want: want{access: true, allowance: n(1500), reset: promotions.ResetMonthly, promotions: []string{"boost"},
				validUntil: tp("2026-04-01T00:00:01Z")},
		},
		{
			name:  "revoked entry stops at revoked_at",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), revoked("c1", granted, at))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(1000), reset: promotions.ResetMonthly},
		},
		{
			name:  "grants.all covers every eligible customer",
			model: fixture(boolPromo("sso-all", grantAll(granted))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(at)},
			want:  want{access: true, promotions: []string{"sso-all"}},
		},
		{
			name:  "a revoked customer entry beats grants.all",
			model: fixture(boolPromo("sso-all", grantAll(granted), revoked("c1", granted, "2026-03-10T00:00:00Z"))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(at)},
			want:  want{access: false},
		},
		{
			name: "an expired customer entry beats an active grants.all",
			model: fixture(boolPromo("sso-all", lasting(1, promotions.UnitWeeks),
				grant("c1", granted), func(p *promotions.Promotion) {
					p.Grants.All = &promotions.AllGrant{GrantedAt: ts("2026-03-30T00:00:00Z")}
				})),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(at)},
			want:  want{access: false},
		},
		{
			name:  "deactivated promotion contributes nothing from deactivated_at on",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), grant("c1", granted), deactivated)),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-03-15T00:00:00Z")},
			want:  want{access: true, allowance: n(1000), reset: promotions.ResetMonthly},
		},
		{
			name:  "deactivated promotion keeps what it gave before deactivated_at",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), grant("c1", granted), deactivated)),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-03-14T23:59:59Z")},
			want:  want{access: true, allowance: n(1500), reset: promotions.ResetMonthly, validUntil: tp("2026-03-15T00:00:00Z"), promotions: []string{"boost"}},
		},
		{
			name:  "ineligible plan contributes nothing",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), grant("c2", granted), eligiblePlans("starter"))),
			query: evaluator.Query{Customer: "c2", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(10000), reset: promotions.ResetMonthly},
		},
		{
			name:  "ineligible attribute contributes nothing",
			model: fixture(boolPromo("eu-sso", grantAll(granted), eligibleAttr("region", "eu"))),
			query: evaluator.Query{Customer: "c2", Feature: "sso", At: ts(at), Plan: "starter"},
			want:  want{access: false},
		},
		{
			name:  "eligible attribute contributes",
			model: fixture(boolPromo("eu-sso", grantAll(granted), eligibleAttr("region", "eu"))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(at)},
			want:  want{access: true, promotions: []string{"eu-sso"}},
		},
		{
			name:  "query plan replaces the directory's plan",
			model: fixture(promo("boost", promotions.ModeAdditive, n(500), grant("c1", granted), eligiblePlans("starter"))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at), Plan: "growth"},
			want:  want{access: true, allowance: n(10000), reset: promotions.ResetMonthly},
		},
		{
			name:  "query attributes replace the directory's",
			model: fixture(boolPromo("eu-sso", grantAll(granted), eligibleAttr("region", "eu"))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(at), Attributes: map[string]string{"region": "us"}},
			want:  want{access: false},
		},
		{
			name:  "customer outside the directory with query plan and attributes",
			model: fixture(boolPromo("eu-sso", grantAll(granted), eligibleAttr("region", "eu"))),
			query: evaluator.Query{Customer: "new", Feature: "sso", At: ts(at), Plan: "starter", Attributes: map[string]string{"region": "eu"}},
			want:  want{access: true, promotions: []string{"eu-sso"}},
		},
		{
			name:  "duration end is exclusive",
			model: fixture(boolPromo("trial", grant("c1", granted), lasting(30, promotions.UnitDays))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-03-31T00:00:00Z")},
			want:  want{access: false},
		},
		{
			name:  "one nanosecond before the duration ends",
			model: fixture(boolPromo("trial", grant("c1", granted), lasting(30, promotions.UnitDays))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-03-30T23:59:59.999999999Z")},
			want:  want{access: true, promotions: []string{"trial"}, validUntil: tp("2026-03-31T00:00:00Z")},
		},
		{
			name:  "grant start is inclusive",
			model: fixture(boolPromo("trial", grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts(granted)},
			want:  want{access: true, promotions: []string{"trial"}},
		},
		{
			name:  "before the grant there is nothing",
			model: fixture(boolPromo("trial", grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-02-28T23:59:59Z")},
			want:  want{access: false},
		},
		{
			name:  "Jan 31 + 1 month ends Feb 28",
			model: fixture(boolPromo("trial", grant("c1", "2026-01-31T10:00:00Z"), lasting(1, promotions.UnitMonths))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-02-28T09:59:59Z")},
			want:  want{access: true, promotions: []string{"trial"}, validUntil: tp("2026-02-28T10:00:00Z")},
		},
		{
			name:  "Jan 31 + 1 month is over on Feb 28 at the same time of day",
			model: fixture(boolPromo("trial", grant("c1", "2026-01-31T10:00:00Z"), lasting(1, promotions.UnitMonths))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-02-28T10:00:00Z")},
			want:  want{access: false},
		},
		{
			name:  "Feb 29 + 1 year ends Feb 28",
			model: fixture(boolPromo("trial", grant("c1", "2028-02-29T00:00:00Z"), lasting(1, promotions.UnitYears))),
			query: evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2028-06-01T00:00:00Z")},
			want:  want{access: true, promotions: []string{"trial"}, validUntil: tp("2029-02-28T00:00:00Z")},
		},
		{
			name: "valid_until is the earliest expiry among contributors",
			model: fixture(
				promo("long", promotions.ModeAdditive, n(1), grant("c1", granted), lasting(3, promotions.UnitMonths)),
				promo("short", promotions.ModeAdditive, n(1), grant("c1", granted), lasting(6, promotions.UnitWeeks)),
				promo("forever", promotions.ModeAdditive, n(1), grant("c1", granted)),
			),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want: want{access: true, allowance: n(1003), reset: promotions.ResetMonthly, promotions: []string{"forever", "long", "short"},
				validUntil: tp("2026-04-12T00:00:00Z")},
		},
		{
			name:  "no baseline: the additive's reset",
			model: fixture(promo("boost", promotions.ModeAdditive, n(50), grant("new", granted), reset(promotions.ResetWeekly))),
			query: evaluator.Query{Customer: "new", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(50), reset: promotions.ResetWeekly, promotions: []string{"boost"}},
		},
		{
			name:  "a zero allowance means no access",
			model: fixture(),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at), Plan: "free"},
			want:  want{access: false, allowance: n(0), reset: promotions.ResetNever},
		},
		{
			name:  "a promotion for another feature does not count",
			model: fixture(boolPromo("trial", grant("c1", granted))),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			want:  want{access: true, allowance: n(1000), reset: promotions.ResetMonthly},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := snapshot.Build(tt.model, "rev-test")
			require.NoError(t, err)
			d, err := evaluator.Decide(snap, tt.query)
			require.NoError(t, err)
			assert.Equal(t, tt.want.access, d.HasAccess, "has_access")
			if d.FeatureType == promotions.FeatureMetered {
				assert.Equal(t, tt.want.allowance, d.Allowance, "allowance")
				assert.Equal(t, tt.want.reset, d.Reset, "reset")
			}
			if tt.want.validUntil == nil {
				assert.True(t, d.ValidUntil.IsZero(), "valid_until %s", d.ValidUntil)
			} else {
				assert.Equal(t, *tt.want.validUntil, d.ValidUntil, "valid_until")
			}
			var got []string
			for _, s := range d.Sources {
				if s.Kind == "promotion" {
					got = append(got, s.ID)
				}
			}
			assert.Equal(t, tt.want.promotions, got, "contributing promotions")
			assert.Equal(t, len(got) > 0, d.Promoted)
			assert.Equal(t, "rev-test", d.Revision)
			if tt.want.override != "" {
				assert.Equal(t, tt.want.override, d.Override, "override")
			}
		})
	}
}

func TestDecideUnknownFeature(t *testing.T) {
	snap, err := snapshot.Build(fixture(), "rev")
	require.NoError(t, err)
	_, err = evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "nope", At: ts(at)})
	assert.ErrorIs(t, err, evaluator.ErrFeatureNotFound)
}

// TestDecideAtTheEdgesOfTime: instants anywhere in the years 0001–9999
// compare exactly — nothing wraps where Unix nanoseconds would (before
// 1678, after 2262), so no answer flips there.
func TestDecideAtTheEdgesOfTime(t *testing.T) {
	tests := []struct {
		name       string
		promo      *promotions.Promotion
		at         string
		access     bool
		validUntil *time.Time
	}{
		{"a 237-year grant runs past 2262", boolPromo("long", grant("c1", "2026-03-01T00:00:00Z"), lasting(237, promotions.UnitYears)),
			"2262-06-01T00:00:00Z", true, tp("2263-03-01T00:00:00Z")},
		{"a 237-year grant ends", boolPromo("long", grant("c1", "2026-03-01T00:00:00Z"), lasting(237, promotions.UnitYears)),
			"2263-03-01T00:00:00Z", false, nil},
		{"a grant in 1600 is active in 1650", boolPromo("old", grant("c1", "1600-01-01T00:00:00Z"), lasting(100, promotions.UnitYears)),
			"1650-01-01T00:00:00Z", true, tp("1700-01-01T00:00:00Z")},
		{"a grant in 1600 is not active in 1599", boolPromo("old", grant("c1", "1600-01-01T00:00:00Z")),
			"1599-12-31T23:59:59Z", false, nil},
		{"a grant without end is active in 9999", boolPromo("forever", grant("c1", "2026-03-01T00:00:00Z")),
			"9999-12-31T23:59:59.999999999Z", true, nil},
		{"a grant from 2300 is not active in 2280", boolPromo("late", grant("c1", "2300-01-01T00:00:00Z")),
			"2280-01-01T00:00:00Z", false, nil},
		{"a grant revoked in 2400 is over in 2500", boolPromo("late", revoked("c1", "2300-01-01T00:00:00Z", "2400-01-01T00:00:00Z")),
			"2500-01-01T00:00:00Z", false, nil},
		{"a grant from year 1 is active at once", boolPromo("first", grant("c1", "0001-01-01T00:00:00Z"), lasting(1, promotions.UnitDays)),
			"0001-01-01T00:00:00Z", true, tp("0001-01-02T00:00:00Z")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := snapshot.Build(fixture(tt.promo), "rev")
			require.NoError(t, err)
			d, err := evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "sso", At: ts(tt.at)})
			require.NoError(t, err)
			assert.Equal(t, tt.access, d.HasAccess)
			if tt.validUntil == nil {
				assert.True(t, d.ValidUntil.IsZero(), "valid_until %s", d.ValidUntil)
			} else {
				assert.Equal(t, *tt.validUntil, d.ValidUntil)
			}
		})
	}
}

func TestDecideRefusesAnInstantOutOfRange(t *testing.T) {
	snap, err := snapshot.Build(fixture(), "rev")
	require.NoError(t, err)
	for _, at := range []time.Time{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		_, err := evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "sso", At: at})
		assert.ErrorIs(t, err, evaluator.ErrTimeOutOfRange, at)
	}
}

// TestDecideOffsetsDoNotChangeGrantEnds: one instant written with +02:00
// or with Z gives one grant end, also where a month is clamped (March 31
// in +02:00 is March 30 in UTC: one month later is April 30 in UTC, not
// April 30 in +02:00).
func TestDecideOffsetsDoNotChangeGrantEnds(t *testing.T) {
	for _, spelling := range []string{"2026-03-31T00:30:00+02:00", "2026-03-30T22:30:00Z"} {
		t.Run(spelling, func(t *testing.T) {
			snap, err := snapshot.Build(fixture(boolPromo("month", grant("c1", spelling), lasting(1, promotions.UnitMonths))), "rev")
			require.NoError(t, err)
			for _, tt := range []struct {
				at     string
				access bool
			}{{"2026-04-30T22:29:59Z", true}, {"2026-04-30T22:30:00Z", false}} {
				d, err := evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "sso", At: ts(tt.at)})
				require.NoError(t, err)
				assert.Equal(t, tt.access, d.HasAccess, tt.at)
				if tt.access {
					assert.Equal(t, ts("2026-04-30T22:30:00Z"), d.ValidUntil)
				}
			}
		})
	}
}

// TestDecideComparesMicroseconds: instants are compared at microsecond
// precision, rounded down (docs/rules.md, "Time").
func TestDecideComparesMicroseconds(t *testing.T) {
	snap, err := snapshot.Build(fixture(boolPromo("short", revoked("c1", "2026-03-01T00:00:00.000001999Z", "2026-03-01T00:00:00.000003Z"))), "rev")
	require.NoError(t, err)
	for _, tt := range []struct {
		at     string
		access bool
	}{
		{"2026-03-01T00:00:00.000000999Z", false},
		{"2026-03-01T00:00:00.000001Z", true}, // the same microsecond as granted_at
		{"2026-03-01T00:00:00.000002999Z", true},
		{"2026-03-01T00:00:00.000003Z", false},
	} {
		d, err := evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "sso", At: ts(tt.at)})
		require.NoError(t, err)
		assert.Equal(t, tt.access, d.HasAccess, tt.at)
	}
}
