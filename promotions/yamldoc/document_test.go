package yamldoc_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

func TestParseDocumentValues(t *testing.T) {
	src := "kind: Feature # trailing comment\nkey: 'api'\nname: \"API\"\ntype: metered\nlimit: 5\nratio: 0.5\non: true\nnone: null\nlist: [a, 1]\nblock: |\n  text\n"
	doc, diags := yamldoc.ParseDocument("f.yaml", []byte(src), promotions.DefaultLimits)
	require.Empty(t, diags)
	assert.Equal(t, promotions.KindFeature, doc.Kind)
	assert.Equal(t, map[string]any{
		"kind": "Feature", "key": "api", "name": "API", "type": "metered", "limit": uint64(5), "ratio": 0.5,
		"on": true, "none": nil, "list": []any{"a", uint64(1)}, "block": "text\n",
	}, normalizeInts(doc.Value))
}

// normalizeInts maps goccy's int64/uint64 choice to one type for comparison.
func normalizeInts(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range v {
			out[k] = normalizeInts(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = normalizeInts(e)
		}
		return out
	case int64:
		return uint64(v)
	default:
		return v
	}
}

func TestParseDocumentRejects(t *testing.T) {
	small := promotions.DefaultLimits
	small.MaxFileBytes = 1 << 10
	tests := []struct {
		name    string
		src     string
		limits  promotions.Limits
		code    promotions.Code
		line    int
		message string
	}{
		{name: "syntax error", src: "kind: Feature\nkey: [a\n", code: promotions.CodeYAMLSyntax, line: 2, message: "not found"},
		{name: "duplicate key", src: "kind: Feature\nkey: a\nkey: b\n", code: promotions.CodeDuplicateKey, line: 3, message: `key "key" is already defined at line 2`},
		{name: "two documents", src: "kind: Feature\n---\nkind: Plan\n", code: promotions.CodeYAMLSyntax, line: 3, message: "2 YAML documents"},
		{name: "empty file", src: "# nothing here\n", code: promotions.CodeUnknownKind, line: 1, message: "no YAML document"},
		{name: "not a mapping", src: "- a\n- b\n", code: promotions.CodeUnknownKind, line: 1, message: "is a list"},
		{name: "missing kind", src: "key: a\n", code: promotions.CodeUnknownKind, line: 1, message: "missing kind"},
		{name: "unknown kind", src: "kind: Flag\n", code: promotions.CodeUnknownKind, line: 1, message: `kind "Flag" is not one of`},
		{name: "NUL byte", src: "kind: Feature\nkey: a\x00b\n", code: promotions.CodeYAMLSyntax, line: 2, message: "NUL byte"},
		{name: "invalid UTF-8", src: "kind: Feature\nname: caf\xe9\n", code: promotions.CodeYAMLSyntax, line: 2, message: "invalid UTF-8 byte 0xe9"},
		{name: "binary garbage", src: "\x7fELF\x02\x01\x01\xff\xfe", code: promotions.CodeYAMLSyntax, line: 1, message: "invalid UTF-8"},
		{name: "file too large", src: "kind: Feature\nname: " + strings.Repeat("x", 2000) + "\n", limits: small, code: promotions.CodeYAMLSyntax, line: 1, message: "more than the limit of 1024 bytes"},
		{name: "deep flow nesting", src: "kind: Feature\nname: " + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + "\n", code: promotions.CodeYAMLSyntax, line: 2, message: "nesting deeper than 32 levels"},
		{name: "alias bomb", src: aliasBomb(), code: promotions.CodeYAMLSyntax, message: "aliases expand to more than 10000 nodes"},
		{name: "undefined alias", src: "kind: Feature\nname: *nope\n", code: promotions.CodeYAMLSyntax, line: 2},
		{name: "merge key", src: "base: &b {a: 1}\nkind: Feature\nx:\n  <<: *b\n", code: promotions.CodeYAMLSyntax, line: 4, message: "merge keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := tt.limits
			if lim == (promotions.Limits{}) {
				lim = promotions.DefaultLimits
			}
			_, diags := yamldoc.ParseDocument("bad.yaml", []byte(tt.src), lim)
			require.NotEmpty(t, diags)
			d := diags[0]
			assert.Equal(t, tt.code, d.Code, d.String())
			assert.Equal(t, "bad.yaml", d.File)
			if tt.line > 0 {
				assert.Equal(t, tt.line, d.Line, d.String())
			}
			assert.Positive(t, d.Column)
			assert.Contains(t, d.Message, tt.message)
		})
	}
}

// aliasBomb is the "billion laughs" document: each level refers to the
// previous one ten times.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("kind: Feature\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("a")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(": &a")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(" [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a")
			b.WriteString(string(rune('0' + i - 1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestSmallAliasesExpand(t *testing.T) {
	doc, diags := yamldoc.ParseDocument("f.yaml", []byte("kind: Feature\nplans: &p [a, b]\nagain: *p\n"), promotions.DefaultLimits)
	require.Empty(t, diags)
	assert.Equal(t, []any{"a", "b"}, doc.Value["again"])
}

func TestPositionOfPath(t *testing.T) {
	src := `kind: PromotionalEntitlement
id: x
window:
  start: 2026-01-01T00:00:00Z
empty:
grants:
  customers:
    - id: a
      state: granted
    - id: b
      state: revoked
`
	doc, diags := yamldoc.ParseDocument("p.yaml", []byte(src), promotions.DefaultLimits)
	require.Empty(t, diags)
	tests := []struct {
		path      promotions.Path
		line, col int
	}{
		{promotions.P("id"), 2, 5},
		{promotions.P("window", "start"), 4, 10},
		{promotions.P("window", "end"), 3, 1}, // missing field: the enclosing mapping's key
		{promotions.P("empty"), 5, 1},         // empty value: its key
		{promotions.P("grants", "customers", 1, "state"), 11, 14},
		{promotions.P("grants", "customers", 1), 10, 7},      // a list item: its first key
		{promotions.P("grants", "customers", 5, "id"), 7, 3}, // out of range: the list's key
	}
	for _, tt := range tests {
		t.Run(tt.path.String(), func(t *testing.T) {
			d := doc.Position(promotions.Diagnostic{Path: tt.path})
			assert.Equal(t, []int{tt.line, tt.col}, []int{d.Line, d.Column})
		})
	}
}

func TestPathString(t *testing.T) {
	assert.Equal(t, "grants.customers[1].granted_at", promotions.P("grants", "customers", 1, "granted_at").String())
	assert.Equal(t, "", promotions.Path(nil).String())
}
