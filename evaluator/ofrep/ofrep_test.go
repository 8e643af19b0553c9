package ofrep_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/ofrep"
)

var at = time.Date(2026, 4, 25, 12, 0, 0, 0, time.UTC)

func acme(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	res, err := compiler.Load(os.DirFS(filepath.Join("..", "..", "examples", "acme")), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "%v", res.Diagnostics)
	snap, err := snapshot.Build(res.Model, res.ContentHash)
	require.NoError(t, err)
	return snap
}

type region string

func TestQueryReadsTheContext(t *testing.T) {
	tests := []struct {
		name     string
		ctx      map[string]any
		customer string
		plan     string
		attrs    map[string]string
		code     ofrep.ErrorCode
	}{
		{name: "targeting key only", ctx: map[string]any{"targetingKey": "cus_001"}, customer: "cus_001"},
		{name: "plan and attributes", ctx: map[string]any{"targetingKey": "c", "plan": "starter", "region": "eu"},
			customer: "c", plan: "starter", attrs: map[string]string{"region": "eu"}},
		{name: "non-string values are ignored", ctx: map[string]any{"targetingKey": "c", "seats": 3.0, "beta": true, "plan": 7},
			customer: "c"},
		{name: "a named string type is a string", ctx: map[string]any{"targetingKey": "c", "region": region("eu")},
			customer: "c", attrs: map[string]string{"region": "eu"}},
		{name: "nil context", ctx: nil, code: ofrep.TargetingKeyMissing},
		{name: "no targeting key", ctx: map[string]any{"plan": "growth"}, code: ofrep.TargetingKeyMissing},
		{name: "empty targeting key", ctx: map[string]any{"targetingKey": ""}, code: ofrep.TargetingKeyMissing},
		{name: "targeting key not a string", ctx: map[string]any{"targetingKey": 7.0}, code: ofrep.InvalidContext},
		{name: "targeting key too long", ctx: map[string]any{"targetingKey": strings.Repeat("k", ofrep.MaxTargetingKeyLength+1)}, code: ofrep.InvalidContext},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ofrep.Query(tt.ctx, "sso", at)
			if tt.code != "" {
				require.NotNil(t, err)
				assert.Equal(t, tt.code, err.Code)
				assert.NotEmpty(t, err.Details)
				return
			}
			require.Nil(t, err)
			assert.Equal(t, evaluator.Query{Customer: tt.customer, Feature: "sso", At: at, Plan: tt.plan, Attributes: tt.attrs}, q)
		})
	}
}

// The values, reasons, variants and metadata of examples/acme decisions,
// as docs/sidecar.md lists them.
func TestDecideMapsDecisions(t *testing.T) {
	snap := acme(t)
	tests := []struct {
		name, customer, feature, plan string
		want                          ofrep.Evaluation
	}{
		{"boolean from grants.all", "cus_005", "sso", "",
			ofrep.Evaluation{Key: "sso", Value: true, Reason: "TARGETING_MATCH", Variant: "promotion:sso-for-growth", Metadata: map[string]any{}}},
		{"boolean without access", "cus_001", "sso", "",
			ofrep.Evaluation{Key: "sso", Value: false, Reason: "DEFAULT", Variant: "default", Metadata: map[string]any{}}},
		{"boolean from the plan", "cus_002", "audit_log", "",
			ofrep.Evaluation{Key: "audit_log", Value: true, Reason: "DEFAULT", Variant: "plan:growth", Metadata: map[string]any{}}},
		{"metered override plus additive", "cus_001", "api_calls", "",
			ofrep.Evaluation{Key: "api_calls", Value: int64(70000), Reason: "TARGETING_MATCH", Variant: "promotion:migration-burst",
				Metadata: map[string]any{"has_access": true, "unlimited": false, "reset": "mixed", "next_reset": "2026-04-26T00:00:00Z"}}},
		{"metered unlimited plan", "cus_003", "api_calls", "",
			ofrep.Evaluation{Key: "api_calls", Value: ofrep.Unlimited, Reason: "DEFAULT", Variant: "plan:enterprise",
				Metadata: map[string]any{"has_access": true, "unlimited": true, "reset": "monthly", "next_reset": "2026-05-01T00:00:00Z"}}},
		{"metered, plan from the context", "someone", "api_calls", "starter",
			ofrep.Evaluation{Key: "api_calls", Value: int64(10000), Reason: "DEFAULT", Variant: "plan:starter",
				Metadata: map[string]any{"has_access": true, "unlimited": false, "reset": "monthly", "next_reset": "2026-05-01T00:00:00Z"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := map[string]any{"targetingKey": tt.customer}
			if tt.plan != "" {
				ctx["plan"] = tt.plan
			}
			q, qerr := ofrep.Query(ctx, tt.feature, at)
			require.Nil(t, qerr)
			flag, err := ofrep.Decide(snap, q)
			require.Nil(t, err)
			assert.Equal(t, tt.want, flag.Evaluation())
			assert.Equal(t, tt.want.Value, flag.Value())
		})
	}
}

func TestDecideUnknownFeature(t *testing.T) {
	_, err := ofrep.Decide(acme(t), evaluator.Query{Customer: "cus_001", Feature: "nope", At: at})
	require.NotNil(t, err)
	assert.Equal(t, ofrep.FlagNotFound, err.Code)
	assert.Equal(t, ofrep.ErrorBody{Key: "nope", ErrorCode: ofrep.FlagNotFound, ErrorDetails: `no feature "nope"`}, err.Body("nope"))
}

// A boolean feature has no metadata of its own; on the wire it is still
// an object, never null.
func TestBooleanMetadataIsAnEmptyObjectOnTheWire(t *testing.T) {
	f := ofrep.FromDecision(evaluator.Decision{Feature: "sso", FeatureType: "boolean", HasAccess: true})
	assert.Nil(t, f.Metadata())
	raw, err := json.Marshal(f.Evaluation())
	require.NoError(t, err)
	assert.JSONEq(t, `{"key":"sso","value":true,"reason":"DEFAULT","variant":"default","metadata":{}}`, string(raw))
}
