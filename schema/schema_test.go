package schema_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
	"github.com/promoctl/promoctl/schema"
)

const validPromotion = `kind: PromotionalEntitlement
id: boost
name: Boost
feature: api_calls
feature_type: metered
metered:
  mode: additive
  allowance: 5000
  reset: monthly
is_applied: false
`

func TestValidate(t *testing.T) {
	s, err := schema.Compile()
	require.NoError(t, err)
	tests := []struct {
		name    string
		src     string
		path    string
		line    int
		col     int
		message string
	}{
		{name: "valid promotion", src: validPromotion},
		{name: "valid feature", src: "kind: Feature\nkey: sso\nname: SSO\ntype: boolean\n"},
		{name: "valid customers", src: "kind: Customers\ncustomers:\n  - {id: 'cus:1@x', plan: starter, attributes: {region: eu}}\n"},
		{name: "valid plan", src: "kind: Plan\nkey: p\nname: P\nentitlements: [{feature: a, allowance: unlimited, reset: never}, {feature: b}]\n"},
		{name: "enum", src: "kind: Feature\nkey: sso\nname: SSO\ntype: toggle\n", path: "type", line: 4, col: 7,
			message: `type: "toggle" is not one of boolean, metered`},
		{name: "key charset", src: "kind: Feature\nkey: Big Key\nname: SSO\ntype: boolean\n", path: "key", line: 2, col: 6,
			message: `key: "Big Key" must match [a-z0-9][a-z0-9_.-]{0,63}`},
		{name: "missing required field", src: "kind: Feature\nkey: sso\ntype: boolean\n", path: "name", line: 1, col: 1,
			message: "missing required field name"},
		{name: "unknown field points at its key", src: "kind: Feature\nkey: sso\nname: S\ntype: boolean\ncolour: red\n", path: "colour", line: 5, col: 1,
			message: "unknown field colour"},
		{name: "unit forbidden on boolean", src: "kind: Feature\nkey: sso\nname: S\ntype: boolean\nunit: seat\n", path: "unit", line: 5, col: 1,
			message: "unit is only allowed for metered features"},
		{name: "valid usage policy", src: "kind: Feature\nkey: api\nname: API\ntype: metered\nusage: {overage: soft, on_store_failure: deny}\n"},
		{name: "usage forbidden on boolean", src: "kind: Feature\nkey: sso\nname: S\ntype: boolean\nusage: {overage: block}\n", path: "usage", line: 5, col: 1,
			message: "usage is only allowed for metered features"},
		{name: "overage enum", src: "kind: Feature\nkey: api\nname: A\ntype: metered\nusage:\n  overage: hard\n", path: "usage.overage", line: 6, col: 12,
			message: `usage.overage: "hard" is not one of block, soft`},
		{name: "on_store_failure enum", src: "kind: Feature\nkey: api\nname: A\ntype: metered\nusage:\n  on_store_failure: retry\n", path: "usage.on_store_failure", line: 6, col: 21,
			message: `usage.on_store_failure: "retry" is not one of allow, deny`},
		{name: "unknown usage field", src: "kind: Feature\nkey: api\nname: A\ntype: metered\nusage:\n  limit: 5\n", path: "usage.limit", line: 6, col: 3,
			message: "unknown field usage.limit"},
		{name: "negative allowance", src: "kind: Plan\nkey: p\nname: P\nentitlements:\n  - feature: a\n    allowance: -5\n", path: "entitlements[0].allowance", line: 6, col: 16,
			message: `entitlements[0].allowance: -5 must be an integer >= 0 or "unlimited"`},
		{name: "timestamp", src: validPromotion + "window: {start: 2026-02-30T00:00:00Z}\n", path: "window.start", line: 11, col: 17,
			message: "must be an RFC 3339 timestamp"},
		{name: "metered missing for metered", src: "kind: PromotionalEntitlement\nid: b\nname: B\nfeature: a\nfeature_type: metered\n", path: "metered", line: 1, col: 1,
			message: "missing required field metered"},
		{name: "metered forbidden for boolean", src: "kind: PromotionalEntitlement\nid: b\nname: B\nfeature: a\nfeature_type: boolean\nmetered: {mode: additive, allowance: 1, reset: never}\n", path: "metered", line: 6, col: 1,
			message: "metered is only allowed when feature_type is metered"},
		{name: "deactivated_at required when deactivated", src: validPromotion + "status: deactivated\n", path: "deactivated_at", line: 1, col: 1,
			message: "missing required field deactivated_at"},
		{name: "deactivated_at forbidden when active", src: validPromotion + "deactivated_at: 2026-01-01T00:00:00Z\n", path: "deactivated_at", line: 11, col: 1,
			message: "deactivated_at is only allowed when status is deactivated"},
		{name: "revoked_at required when revoked", src: validPromotion + "grants:\n  customers:\n    - id: c\n      state: revoked\n      granted_at: 2026-01-01T00:00:00Z\n", path: "grants.customers[0].revoked_at", line: 13, col: 7,
			message: "missing required field grants.customers[0].revoked_at"},
		{name: "previous periods", src: validPromotion + "grants:\n  all:\n    granted_at: 2026-02-01T00:00:00Z\n    previous:\n      - {granted_at: 2026-01-01T00:00:00Z, revoked_at: 2026-01-02T00:00:00Z}\n  customers:\n    - id: c\n      state: granted\n      granted_at: 2026-03-01T00:00:00Z\n      previous:\n        - {granted_at: 2026-01-01T00:00:00Z}\n        - granted_at: 2026-02-01T00:00:00Z\n          revoked_at: 2026-02-02T00:00:00Z\n"},
		{name: "previous period needs granted_at", src: validPromotion + "grants:\n  customers:\n    - id: c\n      state: granted\n      granted_at: 2026-03-01T00:00:00Z\n      previous:\n        - {revoked_at: 2026-01-02T00:00:00Z}\n", path: "grants.customers[0].previous[0].granted_at", line: 17, col: 12,
			message: "missing required field grants.customers[0].previous[0].granted_at"},
		{name: "previous period timestamp", src: validPromotion + "grants:\n  customers:\n    - id: c\n      state: granted\n      granted_at: 2026-03-01T00:00:00Z\n      previous:\n        - {granted_at: yesterday}\n", path: "grants.customers[0].previous[0].granted_at", line: 17, col: 24,
			message: "must be an RFC 3339 timestamp"},
		{name: "previous period unknown field", src: validPromotion + "grants:\n  customers:\n    - id: c\n      state: granted\n      granted_at: 2026-03-01T00:00:00Z\n      previous:\n        - {granted_at: 2026-01-01T00:00:00Z, state: revoked}\n", path: "grants.customers[0].previous[0].state", line: 17, col: 46,
			message: "unknown field grants.customers[0].previous[0].state"},
		{name: "duration value at least 1", src: validPromotion + "duration: {value: 0, unit: days}\n", path: "duration.value", line: 11, col: 19,
			message: "duration.value: 0 must be an integer >= 1"},
		{name: "mode enum", src: "kind: PromotionalEntitlement\nid: b\nname: B\nfeature: a\nfeature_type: metered\nmetered:\n  mode: multiplicative\n  allowance: 1\n  reset: never\n", path: "metered.mode", line: 7, col: 9,
			message: `metered.mode: "multiplicative" is not one of additive, override`},
		{name: "wrong type", src: "kind: Feature\nkey: sso\nname: [a]\ntype: boolean\n", path: "name", line: 3, col: 7,
			message: "name: a list has the wrong type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, diags := yamldoc.ParseDocument("f.yaml", []byte(tt.src), promotions.DefaultLimits)
			require.Empty(t, diags)
			got := s.Validate(doc)
			if tt.message == "" {
				assert.Empty(t, got)
				return
			}
			require.NotEmpty(t, got)
			var match *promotions.Diagnostic
			for i := range got {
				if got[i].Path.String() == tt.path {
					match = &got[i]
				}
			}
			require.NotNil(t, match, "no diagnostic at %s in %v", tt.path, got)
			assert.Equal(t, promotions.CodeSchema, match.Code)
			assert.Equal(t, []int{tt.line, tt.col}, []int{match.Line, match.Column}, match.String())
			assert.Contains(t, match.Message, tt.message)
		})
	}
}

// A context only grows, so the schema is compiled into a fresh one each
// time: two compiled schemas must not share state.
func TestCompileIsIndependent(t *testing.T) {
	a, err := schema.Compile()
	require.NoError(t, err)
	b, err := schema.Compile()
	require.NoError(t, err)
	assert.NotSame(t, a, b)
}
