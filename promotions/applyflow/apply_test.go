package applyflow_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// directory is a customer directory for spring.yaml (eligibility: plans
// starter|growth, region eu|us).
var directory = map[string]*promotions.Customer{
	"cus_001": {ID: "cus_001", Name: "Brightwater", Email: "marta@example.com", Plan: "starter", Attributes: map[string]string{"region": "eu"}},
	"cus_002": {ID: "cus_002", Name: "Fjordline", Email: "ops@example.com", Plan: "growth", Attributes: map[string]string{"region": "eu"}},
	"cus_003": {ID: "cus_003", Name: "Kestrel", Email: "it@example.com", Plan: "enterprise", Attributes: map[string]string{"region": "eu"}},
	"cus_014": {ID: "cus_014", Plan: "growth", Attributes: map[string]string{"region": "us"}},
	"cus_016": {ID: "cus_016", Plan: "starter", Attributes: map[string]string{"region": "us"}},
	"cus_004": {ID: "cus_004", Plan: "starter", Attributes: map[string]string{"region": "eu"}},
	"cus_009": {ID: "cus_009", Plan: "starter", Attributes: map[string]string{"region": "eu"}},
	"cus_018": {ID: "cus_018", Plan: "growth", Attributes: map[string]string{"region": "us"}},
}

func loadPromotion(t *testing.T, name string) (*promotions.Promotion, []byte) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "yamldoc", "testdata", "edit", name))
	require.NoError(t, err)
	doc, diags := yamldoc.ParseDocument(name, src, promotions.DefaultLimits)
	require.Empty(t, diags)
	p := yamldoc.DecodePromotion(doc)
	return &p, src
}

// after applies the plan and decodes the edited promotion.
func after(t *testing.T, plan *applyflow.Apply) promotions.Promotion {
	t.Helper()
	out, _, err := plan.Result()
	require.NoError(t, err)
	doc, diags := yamldoc.ParseDocument("x.yaml", out, promotions.DefaultLimits)
	require.Empty(t, diags)
	return yamldoc.DecodePromotion(doc)
}

func grantOf(p promotions.Promotion, id string) *promotions.CustomerGrant {
	for i := range p.Grants.Customers {
		if p.Grants.Customers[i].ID == id {
			return &p.Grants.Customers[i]
		}
	}
	return nil
}

var at = ts("2026-04-20T10:00:00Z")

func TestApplyGrant(t *testing.T) {
	tests := []struct {
		name    string
		ids     []string
		at      time.Time
		summary string
		refused []applyflow.Refusal
		check   func(t *testing.T, p promotions.Promotion)
	}{
		{name: "new customer gets a granted entry", ids: []string{"cus_002"}, at: at, summary: "granted 1",
			check: func(t *testing.T, p promotions.Promotion) {
				g := grantOf(p, "cus_002")
				require.NotNil(t, g)
				assert.Equal(t, promotions.StateGranted, g.State)
				assert.Equal(t, at, g.GrantedAt)
			}},
		{name: "revoked customer is re-granted", ids: []string{"cus_016"}, at: at, summary: "re-granted 1",
			check: func(t *testing.T, p promotions.Promotion) {
				g := grantOf(p, "cus_016")
				assert.Equal(t, promotions.StateGranted, g.State)
				assert.Equal(t, at, g.GrantedAt)
				assert.Nil(t, g.RevokedAt)
			}},
		{name: "granted customer is left alone", ids: []string{"cus_001", "cus_001"}, at: at, summary: "already granted 1"},
		{name: "unknown customer is refused", ids: []string{"cus_002", "cus_999"}, at: at, summary: "granted 1",
			refused: []applyflow.Refusal{{ID: "cus_999", Reason: "not in the customer directory"}}},
		{name: "ineligible customer is refused", ids: []string{"cus_003"}, at: at, summary: "nothing to do",
			refused: []applyflow.Refusal{{ID: "cus_003", Reason: "not eligible (plan enterprise, region eu; eligibility: plans starter|growth, region eu|us)"}}},
		{name: "invalid id is refused", ids: []string{"bad id"}, at: at, summary: "nothing to do",
			refused: []applyflow.Refusal{{ID: "bad id", Reason: "not a valid customer id"}}},
		{name: "instant outside the window refuses everything", ids: []string{"cus_002"}, at: ts("2026-06-01T00:00:00Z"), summary: "nothing to do",
			refused: []applyflow.Refusal{{Reason: "2026-06-01T00:00:00Z is outside the promotion window [2026-03-01T00:00:00Z, 2026-06-01T00:00:00Z)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, src := loadPromotion(t, "spring.yaml")
			plan, err := applyflow.NewApply(p, src, directory, tt.at)
			require.NoError(t, err)
			require.NoError(t, plan.Grant(tt.ids))
			assert.Equal(t, tt.summary, plan.Summary())
			assert.Equal(t, tt.refused, plan.Refused())
			if tt.check != nil {
				tt.check(t, after(t, plan))
			}
		})
	}
}

func TestApplyGrantWithoutDirectoryTakesAnyID(t *testing.T) {
	p, src := loadPromotion(t, "draft.yaml")
	plan, err := applyflow.NewApply(p, src, nil, ts("2026-01-05T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.Grant([]string{"anyone"}))
	got := after(t, plan)
	assert.True(t, got.IsApplied, "the first grant sets is_applied")
	require.NotNil(t, grantOf(got, "anyone"))
}

func TestApplyGrantRefusesDeactivated(t *testing.T) {
	p, src := loadPromotion(t, "deactivated.yaml")
	plan, err := applyflow.NewApply(p, src, nil, ts("2026-03-01T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.Grant([]string{"a"}))
	assert.Equal(t, []applyflow.Refusal{{Reason: "promotion deactivated is deactivated since 2026-02-01T00:00:00Z: activate it first"}}, plan.Refused())
	assert.False(t, plan.Changed())
}

func TestApplyRevoke(t *testing.T) {
	tests := []struct {
		name    string
		ids     []string
		at      time.Time
		summary string
		refused []applyflow.Refusal
		check   func(t *testing.T, p promotions.Promotion)
	}{
		{name: "granted entry is revoked", ids: []string{"cus_001"}, at: at, summary: "revoked 1",
			check: func(t *testing.T, p promotions.Promotion) {
				g := grantOf(p, "cus_001")
				assert.Equal(t, promotions.StateRevoked, g.State)
				assert.Equal(t, at, *g.RevokedAt)
				assert.Equal(t, ts("2026-03-02T09:00:00Z"), g.GrantedAt, "granted_at is kept")
			}},
		{name: "revoked entry stays", ids: []string{"cus_016"}, at: at, summary: "already revoked 1"},
		{name: "customer without a grant", ids: []string{"cus_002"}, at: at, summary: "not granted 1"},
		{name: "revoking a scheduled grant empties its period", ids: []string{"cus_018"}, at: at, summary: "revoked 1",
			check: func(t *testing.T, p promotions.Promotion) {
				g := grantOf(p, "cus_018")
				assert.Equal(t, promotions.StateRevoked, g.State)
				assert.Equal(t, ts("2026-05-20T12:00:00Z"), *g.RevokedAt, "revoked_at = granted_at")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, src := loadPromotion(t, "spring.yaml")
			plan, err := applyflow.NewApply(p, src, directory, tt.at)
			require.NoError(t, err)
			require.NoError(t, plan.Revoke(tt.ids))
			assert.Equal(t, tt.summary, plan.Summary())
			assert.Equal(t, tt.refused, plan.Refused())
			if tt.check != nil {
				tt.check(t, after(t, plan))
			}
		})
	}
}

func TestApplyRevokeCustomerCoveredByAllAddsException(t *testing.T) {
	p, src := loadPromotion(t, "styles.yaml")
	plan, err := applyflow.NewApply(p, src, nil, ts("2026-02-01T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.Revoke([]string{"c-9"}))
	got := after(t, plan)
	g := grantOf(got, "c-9")
	require.NotNil(t, g)
	assert.Equal(t, promotions.StateRevoked, g.State)
	assert.Equal(t, ts("2026-01-01T00:00:00Z"), g.GrantedAt, "the exception keeps grants.all's granted_at")
	assert.Nil(t, got.Grants.All.RevokedAt, "grants.all stays active for everyone else")
}

func TestApplyRegrantAndDeactivateRoundTrip(t *testing.T) {
	p, src := loadPromotion(t, "styles.yaml")
	plan, err := applyflow.NewApply(p, src, nil, ts("2026-02-01T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.Deactivate())
	assert.Equal(t, "deactivated, revoked 1, grants.all revoked", plan.Summary())
	deactivated := after(t, plan)
	assert.Equal(t, promotions.StatusDeactivated, deactivated.Status)
	assert.Equal(t, ts("2026-02-01T00:00:00Z"), *deactivated.DeactivatedAt)
	assert.NotNil(t, deactivated.Grants.All.RevokedAt)
	for _, g := range deactivated.Grants.Customers {
		assert.Equal(t, promotions.StateRevoked, g.State, g.ID)
	}

	out, _, err := plan.Result()
	require.NoError(t, err)
	doc, _ := yamldoc.ParseDocument("styles.yaml", out, promotions.DefaultLimits)
	p2 := yamldoc.DecodePromotion(doc)
	plan, err = applyflow.NewApply(&p2, out, nil, ts("2026-02-02T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.Activate())
	assert.Equal(t, "activated, still revoked 2, grants.all still revoked", plan.Summary())
	active := after(t, plan)
	assert.Equal(t, promotions.StatusActive, active.Status)
	assert.Nil(t, active.DeactivatedAt)
	assert.NotNil(t, active.Grants.All.RevokedAt, "activate changes the status only")

	out, _, err = plan.Result()
	require.NoError(t, err)
	doc, _ = yamldoc.ParseDocument("styles.yaml", out, promotions.DefaultLimits)
	p3 := yamldoc.DecodePromotion(doc)
	plan, err = applyflow.NewApply(&p3, out, nil, ts("2026-02-03T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.RegrantAllRevoked())
	assert.Equal(t, "re-granted 2, grants.all re-granted", plan.Summary())
	regranted := after(t, plan)
	assert.Nil(t, regranted.Grants.All.RevokedAt)
	for _, g := range regranted.Grants.Customers {
		assert.Equal(t, promotions.StateGranted, g.State, g.ID)
		assert.Nil(t, g.RevokedAt, g.ID)
	}
}

// BenchmarkGrant100k plans and applies a grant of 100k customers to one
// promotion file: the editing part of `promoctl grant --customers-file`,
// which adds loading the repo before and validating the result after.
func BenchmarkGrant100k(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("..", "yamldoc", "testdata", "edit", "draft.yaml"))
	require.NoError(b, err)
	doc, diags := yamldoc.ParseDocument("draft.yaml", src, promotions.DefaultLimits)
	require.Empty(b, diags)
	p := yamldoc.DecodePromotion(doc)
	ids := make([]string, 100_000)
	for i := range ids {
		ids[i] = fmt.Sprintf("cus_%06d", i)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plan, err := applyflow.NewApply(&p, src, nil, ts("2026-02-01T00:00:00Z"))
		require.NoError(b, err)
		require.NoError(b, plan.Grant(ids))
		out, _, err := plan.Unchecked()
		require.NoError(b, err)
		b.SetBytes(int64(len(out)))
	}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// step applies one plan to p at an instant and returns the edited
// promotion and file.
func step(t *testing.T, p *promotions.Promotion, src []byte, when string, change func(*applyflow.Apply) error) (*promotions.Promotion, []byte, *applyflow.Apply) {
	t.Helper()
	plan, err := applyflow.NewApply(p, src, directory, ts(when))
	require.NoError(t, err)
	require.NoError(t, change(plan))
	require.Empty(t, plan.Refused())
	out, _, err := plan.Result()
	require.NoError(t, err)
	doc, diags := yamldoc.ParseDocument(p.File, out, promotions.DefaultLimits)
	require.Empty(t, diags)
	next := yamldoc.DecodePromotion(doc)
	return &next, out, plan
}

// Restoring re-grants exactly what the deactivation revoked: customers
// revoked before it stay revoked.
func TestApplyActivateRestore(t *testing.T) {
	p, src := loadPromotion(t, "spring.yaml")
	p, src, _ = step(t, p, src, "2026-04-20T00:00:00Z", (*applyflow.Apply).GrantAll)
	p, src, _ = step(t, p, src, "2026-05-25T00:00:00Z", (*applyflow.Apply).Deactivate)

	ids, all := applyflow.RevokedByDeactivation(p)
	assert.Equal(t, []string{"cus_001", "cus_014", "cus_004", "cus_009", "cus_018"}, ids, "cus_016 was revoked on 04-10, before")
	assert.True(t, all)

	restored, _, plan := step(t, p, src, "2026-05-26T00:00:00Z", (*applyflow.Apply).ActivateRestore)
	assert.Equal(t, "activated, re-granted 5, still revoked 1, grants.all re-granted", plan.Summary())
	assert.Equal(t, promotions.StatusActive, restored.Status)
	assert.Nil(t, restored.DeactivatedAt)
	require.NotNil(t, restored.Grants.All)
	assert.Nil(t, restored.Grants.All.RevokedAt)
	assert.Equal(t, ts("2026-05-26T00:00:00Z"), restored.Grants.All.GrantedAt)
	for _, id := range ids {
		g := grantOf(*restored, id)
		assert.Equal(t, promotions.StateGranted, g.State, id)
		assert.Equal(t, ts("2026-05-26T00:00:00Z"), g.GrantedAt, id)
		assert.Nil(t, g.RevokedAt, id)
	}
	kept := grantOf(*restored, "cus_016")
	assert.Equal(t, promotions.StateRevoked, kept.State)
	assert.Equal(t, ts("2026-04-10T08:00:00Z"), *kept.RevokedAt)
}

func TestApplyActivateRestoreRefusals(t *testing.T) {
	p, src := loadPromotion(t, "spring.yaml")
	p, src, _ = step(t, p, src, "2026-05-25T00:00:00Z", (*applyflow.Apply).Deactivate)
	tests := []struct {
		name, at, reason string
	}{
		{"before the deactivation", "2026-05-24T00:00:00Z", "restoring at 2026-05-24T00:00:00Z would precede the deactivation at 2026-05-25T00:00:00Z"},
		{"after the window closed", "2026-06-02T00:00:00Z", "2026-06-02T00:00:00Z is outside the promotion window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := applyflow.NewApply(p, src, directory, ts(tt.at))
			require.NoError(t, err)
			require.NoError(t, plan.ActivateRestore())
			require.Len(t, plan.Refused(), 1)
			assert.Contains(t, plan.Refused()[0].Reason, tt.reason)
			assert.Equal(t, "", plan.Refused()[0].ID)
		})
	}
	active, _ := loadPromotion(t, "spring.yaml")
	ids, all := applyflow.RevokedByDeactivation(active)
	assert.Empty(t, ids, "an active promotion has nothing revoked by a deactivation")
	assert.False(t, all)
}
