package schema_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/schema"
)

// TestGoCopiesAgreeWithCUE holds the Go copies of schema rules
// (promotions/rules.go) equal to the CUE definitions they copy.
func TestGoCopiesAgreeWithCUE(t *testing.T) {
	raw, err := schema.JSONSchema()
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	defs := doc["$defs"].(map[string]any)

	t.Run("key pattern", func(t *testing.T) {
		assert.Equal(t, promotions.KeyPattern, pattern(t, defs["Key"]))
	})
	t.Run("customer id pattern", func(t *testing.T) {
		assert.Equal(t, promotions.CustomerIDPattern, pattern(t, defs["CustomerID"]))
	})
	t.Run("default status", func(t *testing.T) {
		def, ok := schema.MustCompile().KindDefinition(promotions.KindPromotion).LookupPath(cue.ParsePath("status")).Default()
		require.True(t, ok, "status has a default")
		got, err := def.String()
		require.NoError(t, err)
		assert.Equal(t, string(promotions.DefaultStatus), got)
	})
	t.Run("promotion key order names exactly the schema's fields", func(t *testing.T) {
		root := defs["PromotionalEntitlement"].(map[string]any)
		for _, name := range promotions.PromotionMappings() {
			obj := resolve(t, defs, root, name)
			var fields []string
			for k := range obj["properties"].(map[string]any) {
				fields = append(fields, k)
			}
			want := slices.Clone(promotions.PromotionKeyOrderAt(name))
			slices.Sort(want)
			slices.Sort(fields)
			assert.Equal(t, fields, want, "mapping %q", name)
		}
	})
}

// pattern returns the regular expression of a string definition.
func pattern(t *testing.T, def any) string {
	t.Helper()
	for _, alt := range def.(map[string]any)["anyOf"].([]any) {
		if m, ok := alt.(map[string]any); ok {
			if p, ok := m["pattern"].(string); ok {
				return p
			}
		}
	}
	t.Fatalf("no pattern in %v", def)
	return ""
}

// resolve walks a dotted mapping name ("grants.customers[]") through the
// exported schema's properties, items and $refs.
func resolve(t *testing.T, defs, obj map[string]any, name string) map[string]any {
	t.Helper()
	deref := func(o map[string]any) map[string]any {
		if ref, ok := o["$ref"].(string); ok {
			return defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		return o
	}
	if name == "" {
		return obj
	}
	for _, part := range strings.Split(name, ".") {
		list := strings.HasSuffix(part, "[]")
		props, ok := obj["properties"].(map[string]any)
		require.True(t, ok, "no properties at %q", name)
		next, ok := props[strings.TrimSuffix(part, "[]")].(map[string]any)
		require.True(t, ok, "no field %q in %q", part, name)
		obj = deref(next)
		if list {
			obj = deref(obj["items"].(map[string]any))
		}
	}
	return obj
}
