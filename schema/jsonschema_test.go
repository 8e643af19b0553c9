package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
	"github.com/promoctl/promoctl/schema"
)

// editorSchema compiles the exported JSON Schema with a draft 2020-12
// validator, as an editor would.
func editorSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	raw, err := schema.JSONSchema()
	require.NoError(t, err)
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.AssertFormat() // editors check date-time; so does this test
	require.NoError(t, c.AddResource("promoctl.schema.json", doc))
	sch, err := c.Compile("promoctl.schema.json")
	require.NoError(t, err)
	return sch
}

// verdicts returns whether CUE and the JSON Schema accept one document.
func verdicts(t *testing.T, s *schema.Schema, editor *jsonschema.Schema, src []byte) (cueOK, jsonOK bool) {
	t.Helper()
	doc, diags := yamldoc.ParseDocument("f.yaml", src, promotions.DefaultLimits)
	require.NotNil(t, doc, "%v", diags)
	require.False(t, diags.HasErrors(), "%v", diags)
	cueOK = !s.Validate(doc).HasErrors()
	asJSON, err := json.Marshal(doc.Value)
	require.NoError(t, err)
	value, err := jsonschema.UnmarshalJSON(bytes.NewReader(asJSON))
	require.NoError(t, err)
	return cueOK, editor.Validate(value) == nil
}

// The exported schema says yes and no where CUE does, including for the
// fields that depend on another field's value, so that an editor flags
// what promoctl validate would.
func TestJSONSchemaAgreesWithCUE(t *testing.T) {
	s, err := schema.Compile()
	require.NoError(t, err)
	editor := editorSchema(t)
	const promo = "kind: PromotionalEntitlement\nid: p\nname: P\nfeature: sso\n"
	tests := []struct {
		name  string
		src   string
		valid bool
	}{
		{"boolean feature", "kind: Feature\nkey: sso\nname: SSO\ntype: boolean\n", true},
		{"metered feature with unit", "kind: Feature\nkey: api\nname: API\ntype: metered\nunit: calls\n", true},
		{"boolean feature with unit", "kind: Feature\nkey: sso\nname: SSO\ntype: boolean\nunit: seats\n", false},
		{"metered feature with usage", "kind: Feature\nkey: api\nname: API\ntype: metered\nusage: {overage: soft, on_store_failure: deny}\n", true},
		{"boolean feature with usage", "kind: Feature\nkey: sso\nname: SSO\ntype: boolean\nusage: {overage: soft}\n", false},
		{"usage overage not an enum value", "kind: Feature\nkey: api\nname: API\ntype: metered\nusage: {overage: hard}\n", false},
		{"feature type not an enum value", "kind: Feature\nkey: sso\nname: SSO\ntype: toggle\n", false},
		{"feature with unknown field", "kind: Feature\nkey: sso\nname: SSO\ntype: boolean\ncolor: red\n", false},
		{"feature key pattern", "kind: Feature\nkey: SSO\nname: SSO\ntype: boolean\n", false},
		{"boolean promotion", promo + "feature_type: boolean\n", true},
		{"boolean promotion with metered", promo + "feature_type: boolean\nmetered: {mode: additive, allowance: 1, reset: never}\n", false},
		{"metered promotion", promo + "feature_type: metered\nmetered: {mode: additive, allowance: unlimited, reset: monthly}\n", true},
		{"metered promotion without metered", promo + "feature_type: metered\n", false},
		{"metered mode not an enum value", promo + "feature_type: metered\nmetered: {mode: multiply, allowance: 1, reset: never}\n", false},
		{"negative allowance", promo + "feature_type: metered\nmetered: {mode: additive, allowance: -1, reset: never}\n", false},
		{"deactivated with deactivated_at", promo + "feature_type: boolean\nstatus: deactivated\ndeactivated_at: 2026-03-01T00:00:00Z\n", true},
		{"deactivated without deactivated_at", promo + "feature_type: boolean\nstatus: deactivated\n", false},
		{"active with deactivated_at", promo + "feature_type: boolean\nstatus: active\ndeactivated_at: 2026-03-01T00:00:00Z\n", false},
		{"default status with deactivated_at", promo + "feature_type: boolean\ndeactivated_at: 2026-03-01T00:00:00Z\n", false},
		{"granted grant", promo + "feature_type: boolean\ngrants:\n  customers:\n    - {id: c1, state: granted, granted_at: 2026-03-01T00:00:00Z}\n", true},
		{"revoked grant", promo + "feature_type: boolean\ngrants:\n  customers:\n    - {id: c1, state: revoked, granted_at: 2026-03-01T00:00:00Z, revoked_at: 2026-03-02T00:00:00Z}\n", true},
		{"revoked grant without revoked_at", promo + "feature_type: boolean\ngrants:\n  customers:\n    - {id: c1, state: revoked, granted_at: 2026-03-01T00:00:00Z}\n", false},
		{"granted grant with revoked_at", promo + "feature_type: boolean\ngrants:\n  customers:\n    - {id: c1, state: granted, granted_at: 2026-03-01T00:00:00Z, revoked_at: 2026-03-02T00:00:00Z}\n", false},
		{"duration of zero", promo + "feature_type: boolean\nduration: {value: 0, unit: days}\n", false},
		{"plan", "kind: Plan\nkey: p\nname: P\nentitlements: [{feature: a, allowance: unlimited, reset: never}]\n", true},
		{"customers", "kind: Customers\ncustomers:\n  - {id: 'cus:1@x', plan: starter, attributes: {region: eu}}\n", true},
		{"customer without plan", "kind: Customers\ncustomers:\n  - {id: c1}\n", false},
		{"grant time not a timestamp", promo + "feature_type: boolean\ngrants:\n  all: {granted_at: yesterday}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cueOK, jsonOK := verdicts(t, s, editor, []byte(tt.src))
			assert.Equal(t, tt.valid, cueOK, "CUE")
			assert.Equal(t, tt.valid, jsonOK, "JSON Schema")
		})
	}
}

func TestJSONSchemaAcceptsTheExampleRepo(t *testing.T) {
	s, err := schema.Compile()
	require.NoError(t, err)
	editor := editorSchema(t)
	files, err := filepath.Glob(filepath.Join("..", "examples", "acme", "*", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		cueOK, jsonOK := verdicts(t, s, editor, src)
		assert.True(t, cueOK, "CUE: %s", file)
		assert.True(t, jsonOK, "JSON Schema: %s", file)
	}
}
