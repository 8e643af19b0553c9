package evaluator_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

func TestWhyNot(t *testing.T) {
	const at = "2026-04-01T00:00:00Z"
	withPrevious := func(customer, granted, revokedAt string) func(*promotions.Promotion) {
		return func(p *promotions.Promotion) {
			g := &p.Grants.Customers[len(p.Grants.Customers)-1]
			g.Previous = append(g.Previous, promotions.Period{GrantedAt: ts(granted), RevokedAt: tp(revokedAt)})
		}
	}
	tests := []struct {
		name     string
		promo    *promotions.Promotion
		customer string
		plan     string
		reason   evaluator.Reason
		rule     string
		detail   string
	}{
		{name: "deactivated", promo: boolPromo("p", grant("c1", granted), deactivated), customer: "c1",
			reason: evaluator.ReasonDeactivated, detail: "deactivated at 2026-03-15T00:00:00Z"},
		{name: "not eligible: plan", promo: boolPromo("p", grant("c1", granted), eligiblePlans("growth")), customer: "c1",
			reason: evaluator.ReasonNotEligible, rule: "plans", detail: "plan starter is not one of growth"},
		{name: "not eligible: the query's plan", promo: boolPromo("p", grant("c2", granted), eligiblePlans("growth")), customer: "c2", plan: "free",
			reason: evaluator.ReasonNotEligible, rule: "plans", detail: "plan free is not one of growth"},
		{name: "not eligible: attribute", promo: boolPromo("p", grant("c1", granted), eligibleAttr("region", "us")), customer: "c1",
			reason: evaluator.ReasonNotEligible, rule: "attributes.region", detail: "region eu is not one of us"},
		{name: "not granted", promo: boolPromo("p", grant("c2", granted)), customer: "c1",
			reason: evaluator.ReasonNotGranted, detail: "the customer has no entry and the promotion has no grants.all"},
		{name: "scheduled", promo: boolPromo("p", grant("c1", "2026-04-02T00:00:00Z")), customer: "c1",
			reason: evaluator.ReasonScheduled, detail: "the customer's entry starts at 2026-04-02T00:00:00Z"},
		{name: "scheduled: between periods", promo: boolPromo("p", grant("c1", "2026-04-02T00:00:00Z"), withPrevious("c1", "2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z")), customer: "c1",
			reason: evaluator.ReasonScheduled, detail: "the customer's entry starts at 2026-04-02T00:00:00Z"},
		{name: "expired", promo: boolPromo("p", grant("c1", granted), lasting(7, promotions.UnitDays)), customer: "c1",
			reason: evaluator.ReasonExpired, detail: "the customer's entry expired at 2026-03-08T00:00:00Z"},
		{name: "expired grants.all", promo: boolPromo("p", grantAll(granted), lasting(7, promotions.UnitDays)), customer: "c1",
			reason: evaluator.ReasonExpired, detail: "grants.all expired at 2026-03-08T00:00:00Z"},
		{name: "revoked", promo: boolPromo("p", revoked("c1", granted, "2026-03-03T00:00:00Z")), customer: "c1",
			reason: evaluator.ReasonRevoked, detail: "the customer's entry was revoked at 2026-03-03T00:00:00Z"},
		{name: "overridden by the customer's entry", promo: boolPromo("p", grantAll(granted), revoked("c1", granted, "2026-03-03T00:00:00Z")), customer: "c1",
			reason: evaluator.ReasonOverriddenByEntry,
			detail: "grants.all would give it, but the customer's entry decides since 2026-03-01T00:00:00Z and is revoked at this instant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := snapshot.Build(fixture(tt.promo), "r")
			require.NoError(t, err)
			d, err := evaluator.Decide(snap, evaluator.Query{Customer: tt.customer, Feature: "sso", At: ts(at), Plan: tt.plan, Explain: true})
			require.NoError(t, err)
			require.Len(t, d.NotContributing, 1, "sources %+v", d.Sources)
			assert.Equal(t, evaluator.NotContributing{ID: "p", Reason: tt.reason, Rule: tt.rule, Detail: tt.detail}, d.NotContributing[0])
		})
	}
}

func TestWhyNotIsOptIn(t *testing.T) {
	snap, err := snapshot.Build(fixture(boolPromo("p", grant("c2", granted))), "r")
	require.NoError(t, err)
	d, err := evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-04-01T00:00:00Z")})
	require.NoError(t, err)
	assert.Nil(t, d.NotContributing)
	assert.NotContains(t, string(d.AppendJSON(nil)), "not_contributing")

	d, err = evaluator.Decide(snap, evaluator.Query{Customer: "c2", Feature: "sso", At: ts("2026-04-01T00:00:00Z"), Explain: true})
	require.NoError(t, err)
	assert.Empty(t, d.NotContributing, "a contributing promotion is not listed")
	assert.Contains(t, string(d.AppendJSON(nil)), `"not_contributing":[]`)
}

func TestReplacedBaseline(t *testing.T) {
	n := func(v int64) promotions.Allowance { return promotions.Allowance{Value: v} }
	snap, err := snapshot.Build(fixture(
		promo("burst", promotions.ModeOverride, n(20000), grant("c1", granted)),
		promo("boost", promotions.ModeAdditive, n(500), grant("c1", granted)),
	), "r")
	require.NoError(t, err)
	d, err := evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-04-01T00:00:00Z")})
	require.NoError(t, err)
	require.Len(t, d.Sources, 3)
	assert.Equal(t, evaluator.SourcePlan, d.Sources[0].Kind)
	assert.Equal(t, "burst", d.ReplacedBy(d.Sources[0]), "the baseline names the override that replaces it")
	assert.Equal(t, int64(20500), d.Allowance.Value, "override 20000 + additive 500: the sources add up without the plan")
	assert.Contains(t, string(d.AppendJSON(nil)), `{"kind":"plan","id":"starter","allowance":1000,"reset":"monthly","replaced_by":"burst"}`)
}

func TestCustomerKnownAndUnknownPlan(t *testing.T) {
	m := fixture()
	snap, err := snapshot.Build(m, "r")
	require.NoError(t, err)
	d, err := evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-04-01T00:00:00Z")})
	require.NoError(t, err)
	assert.Contains(t, string(d.AppendJSON(nil)), `"customer_known":true`)
	d, err = evaluator.Decide(snap, evaluator.Query{Customer: "c9", Feature: "sso", At: ts("2026-04-01T00:00:00Z")})
	require.NoError(t, err)
	assert.False(t, d.CustomerKnown)
	assert.Contains(t, string(d.AppendJSON(nil)), `"customer_known":false`)

	_, err = evaluator.Decide(snap, evaluator.Query{Customer: "c1", Feature: "sso", At: ts("2026-04-01T00:00:00Z"), Plan: "growht"})
	var unknown *evaluator.UnknownPlanError
	require.ErrorAs(t, err, &unknown)
	assert.Equal(t, []string{"growth"}, unknown.Closest)
	assert.EqualError(t, err, `plan "growht" is not defined; did you mean growth?`)

	m.HasDirectory = false
	snap, err = snapshot.Build(m, "r")
	require.NoError(t, err)
	d, err = evaluator.Decide(snap, evaluator.Query{Customer: "c9", Feature: "sso", At: ts("2026-04-01T00:00:00Z")})
	require.NoError(t, err)
	assert.NotContains(t, string(d.AppendJSON(nil)), "customer_known", "without a directory every customer is the caller's")
}

// Why words a why-not the same way for every printer.
func TestWhyWording(t *testing.T) {
	tests := []struct {
		name string
		nc   evaluator.NotContributing
		want string
	}{
		{"a failed rule", evaluator.NotContributing{ID: "p", Reason: evaluator.ReasonNotEligible, Rule: "plans", Detail: "plan starter is not one of growth"},
			"not_eligible (plans): plan starter is not one of growth"},
		{"an attribute rule", evaluator.NotContributing{ID: "p", Reason: evaluator.ReasonNotEligible, Rule: "attributes.region", Detail: "region us is not one of apac"},
			"not_eligible (attributes.region): region us is not one of apac"},
		{"no rule", evaluator.NotContributing{ID: "p", Reason: evaluator.ReasonScheduled, Detail: "the customer's entry starts at 2026-05-11T09:00:00Z"},
			"scheduled: the customer's entry starts at 2026-05-11T09:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.nc.Why())
		})
	}
}
