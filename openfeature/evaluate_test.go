package openfeature_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/openfeature/reposource"
)

func acmeClient(t *testing.T) (*openfeature.Provider, *of.Client) {
	t.Helper()
	p := reposource.New(acmeDir(t), openfeature.Options{Now: fixedClock})
	client, _, err := register(t, p)
	require.NoError(t, err)
	return p, client
}

// Every typed evaluation of examples/acme on 25 April 2026: the values,
// reasons, variants and metadata of the sidecar's OFREP answers, and the
// errors an OFREP client reports for the same answers.
func TestEvaluations(t *testing.T) {
	_, client := acmeClient(t)
	ctx := context.Background()
	metered := func(has, unlimited bool, reset, nextReset string) of.FlagMetadata {
		return of.FlagMetadata{"has_access": has, "unlimited": unlimited, "reset": reset, "next_reset": nextReset}
	}
	type want struct {
		value    any
		reason   of.Reason
		variant  string
		metadata of.FlagMetadata
		code     of.ErrorCode
	}
	tests := []struct {
		name    string
		kind    string // bool, int, float, string, object
		feature string
		evalCtx of.EvaluationContext
		want    want
	}{
		{"boolean from grants.all", "bool", "sso", of.NewEvaluationContext("cus_005", nil),
			want{true, of.TargetingMatchReason, "promotion:sso-for-growth", of.FlagMetadata{}, ""}},
		{"boolean without access", "bool", "sso", of.NewEvaluationContext("cus_001", nil),
			want{false, of.DefaultReason, "default", of.FlagMetadata{}, ""}},
		{"boolean from the plan", "bool", "audit_log", of.NewEvaluationContext("cus_002", nil),
			want{true, of.DefaultReason, "plan:growth", of.FlagMetadata{}, ""}},
		{"metered as int: override plus additive", "int", "api_calls", of.NewEvaluationContext("cus_001", nil),
			want{int64(70000), of.TargetingMatchReason, "promotion:migration-burst", metered(true, false, "mixed", "2026-04-26T00:00:00Z"), ""}},
		{"metered as float", "float", "api_calls", of.NewEvaluationContext("cus_001", nil),
			want{70000.0, of.TargetingMatchReason, "promotion:migration-burst", metered(true, false, "mixed", "2026-04-26T00:00:00Z"), ""}},
		{"metered as object is a float64", "object", "api_calls", of.NewEvaluationContext("cus_001", nil),
			want{70000.0, of.TargetingMatchReason, "promotion:migration-burst", metered(true, false, "mixed", "2026-04-26T00:00:00Z"), ""}},
		{"boolean as object is a bool", "object", "sso", of.NewEvaluationContext("cus_005", nil),
			want{true, of.TargetingMatchReason, "promotion:sso-for-growth", of.FlagMetadata{}, ""}},
		{"unlimited is the largest safe integer", "int", "api_calls", of.NewEvaluationContext("cus_003", nil),
			want{int64(9007199254740991), of.DefaultReason, "plan:enterprise", metered(true, true, "monthly", "2026-05-01T00:00:00Z"), ""}},
		{"plan and attributes from the context", "int", "api_calls",
			of.NewEvaluationContext("someone", map[string]any{"plan": "starter", "region": "eu", "seats": 3}),
			want{int64(10000), of.DefaultReason, "plan:starter", metered(true, false, "monthly", "2026-05-01T00:00:00Z"), ""}},
		{"unknown feature", "bool", "no_such_feature", of.NewEvaluationContext("cus_001", nil),
			want{false, of.ErrorReason, "", of.FlagMetadata{}, of.FlagNotFoundCode}},
		{"no targeting key", "bool", "sso", of.NewTargetlessEvaluationContext(map[string]any{"plan": "growth"}),
			want{false, of.ErrorReason, "", of.FlagMetadata{}, of.TargetingKeyMissingCode}},
		{"targeting key too long", "bool", "sso", of.NewEvaluationContext(strings.Repeat("k", 257), nil),
			want{false, of.ErrorReason, "", of.FlagMetadata{}, of.InvalidContextCode}},
		{"boolean asked of a metered feature", "bool", "api_calls", of.NewEvaluationContext("cus_001", nil),
			want{false, of.ErrorReason, "", of.FlagMetadata{}, of.TypeMismatchCode}},
		{"int asked of a boolean feature", "int", "sso", of.NewEvaluationContext("cus_005", nil),
			want{int64(-1), of.ErrorReason, "", of.FlagMetadata{}, of.TypeMismatchCode}},
		{"float asked of a boolean feature", "float", "sso", of.NewEvaluationContext("cus_005", nil),
			want{-1.0, of.ErrorReason, "", of.FlagMetadata{}, of.TypeMismatchCode}},
		{"string asked of any feature", "string", "sso", of.NewEvaluationContext("cus_005", nil),
			want{"dflt", of.ErrorReason, "", of.FlagMetadata{}, of.TypeMismatchCode}},
		{"unknown feature beats the type", "string", "nope", of.NewEvaluationContext("cus_005", nil),
			want{"dflt", of.ErrorReason, "", of.FlagMetadata{}, of.FlagNotFoundCode}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got want
			var d of.EvaluationDetails
			var err error
			switch tt.kind {
			case "bool":
				var r of.BooleanEvaluationDetails
				r, err = client.BooleanValueDetails(ctx, tt.feature, false, tt.evalCtx)
				got.value, d = r.Value, r.EvaluationDetails
			case "int":
				var r of.IntEvaluationDetails
				r, err = client.IntValueDetails(ctx, tt.feature, -1, tt.evalCtx)
				got.value, d = r.Value, r.EvaluationDetails
			case "float":
				var r of.FloatEvaluationDetails
				r, err = client.FloatValueDetails(ctx, tt.feature, -1, tt.evalCtx)
				got.value, d = r.Value, r.EvaluationDetails
			case "string":
				var r of.StringEvaluationDetails
				r, err = client.StringValueDetails(ctx, tt.feature, "dflt", tt.evalCtx)
				got.value, d = r.Value, r.EvaluationDetails
			case "object":
				var r of.InterfaceEvaluationDetails
				r, err = client.ObjectValueDetails(ctx, tt.feature, "dflt", tt.evalCtx)
				got.value, d = r.Value, r.EvaluationDetails
			}
			got.reason, got.variant, got.metadata, got.code = d.Reason, d.Variant, d.FlagMetadata, d.ErrorCode
			assert.Equal(t, tt.want, got)
			if tt.want.code == "" {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
				assert.NotEmpty(t, d.ErrorMessage)
			}
		})
	}
}

// Decide gives the decision with its sources, as explain shows it.
func TestDecideGivesSources(t *testing.T) {
	p, _ := acmeClient(t)
	d, err := p.Decide(evaluator.Query{Customer: "cus_001", Feature: "api_calls", At: clock})
	require.NoError(t, err)
	assert.Equal(t, int64(70000), d.Allowance.Value)
	ids := []string{}
	for _, s := range d.Sources {
		ids = append(ids, string(s.Kind)+":"+s.ID)
	}
	assert.Equal(t, []string{"plan:starter", "promotion:migration-burst", "promotion:spring-api-boost"}, ids)
	assert.Equal(t, "migration-burst", d.Override)

	now, err := p.Decide(evaluator.Query{Customer: "cus_001", Feature: "api_calls"})
	require.NoError(t, err)
	assert.Equal(t, clock, now.At, "a query without a time is decided at the provider's clock")

	_, err = p.Decide(evaluator.Query{Customer: "cus_001", Feature: "nope"})
	assert.ErrorIs(t, err, evaluator.ErrFeatureNotFound)
}

// The repo directory is watched: a change that breaks it makes the provider
// STALE and the last good snapshot answers; removing the broken promotion
// makes it READY with a configuration change, and answers follow the files.
func TestRepoChangesAreWatched(t *testing.T) {
	dir := acmeDir(t)
	p := reposource.New(dir, openfeature.Options{Now: fixedClock, Debounce: 20 * time.Millisecond})
	client, ev, err := register(t, p)
	require.NoError(t, err)
	ctx := context.Background()
	cus005 := of.NewEvaluationContext("cus_005", nil)

	promo := filepath.Join(dir, "promotions", "sso-for-growth.yaml")
	require.NoError(t, os.WriteFile(promo, []byte("kind: PromotionalEntitlement\nid: [broken\n"), 0o644))
	ev.await(t, of.ProviderStale, 1)
	assert.Equal(t, of.StaleState, client.State())
	ok, err := client.BooleanValue(ctx, "sso", false, cus005)
	require.NoError(t, err)
	assert.True(t, ok, "the last good snapshot answers")
	assert.NotZero(t, p.Status().LastReload.ErrorCount)

	require.NoError(t, os.Remove(promo)) // valid again, without the promotion
	ev.await(t, of.ProviderReady, 2)
	ev.await(t, of.ProviderConfigChange, 1)
	assert.Equal(t, of.ReadyState, client.State())
	ok, err = client.BooleanValue(ctx, "sso", true, cus005)
	require.NoError(t, err)
	assert.False(t, ok, "without the promotion cus_005 has no sso")
}
