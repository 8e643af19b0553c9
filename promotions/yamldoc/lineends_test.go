package yamldoc_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

const bom = "\xEF\xBB\xBF"

func crlf(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")) }

// lineEndVariants are the ways an editor may save the same LF file.
func lineEndVariants(src []byte) map[string][]byte {
	return map[string][]byte{
		"crlf":     crlf(src),
		"bom":      append([]byte(bom), src...),
		"bom+crlf": append([]byte(bom), crlf(src)...),
	}
}

// leafPaths lists the path of every value in v.
func leafPaths(v any, path promotions.Path, out *[]promotions.Path) {
	*out = append(*out, append(promotions.Path(nil), path...))
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			leafPaths(e, path.Key(k), out)
		}
	case []any:
		for i, e := range v {
			leafPaths(e, path.Index(i), out)
		}
	}
}

// Every example file saved with CRLF line ends or a BOM reads to the same
// values, with every path at the same line and column, as the LF file.
func TestCRLFAndBOMReadAsLF(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "acme", "*", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		want, diags := yamldoc.ParseDocument("f.yaml", src, promotions.DefaultLimits)
		require.Empty(t, diags)
		var paths []promotions.Path
		leafPaths(want.Value, nil, &paths)
		for name, variant := range lineEndVariants(src) {
			t.Run(filepath.Base(file)+"/"+name, func(t *testing.T) {
				got, diags := yamldoc.ParseDocument("f.yaml", variant, promotions.DefaultLimits)
				require.Empty(t, diags)
				assert.Equal(t, want.Value, got.Value)
				assert.Equal(t, want.Kind, got.Kind)
				got.Release() // positions are found again from the kept bytes
				for _, p := range paths {
					w, g := want.Position(promotions.Diagnostic{Path: p}), got.Position(promotions.Diagnostic{Path: p})
					assert.Equal(t, [2]int{w.Line, w.Column}, [2]int{g.Line, g.Column}, p.String())
					w, g = want.KeyPosition(promotions.Diagnostic{Path: p}), got.KeyPosition(promotions.Diagnostic{Path: p})
					assert.Equal(t, [2]int{w.Line, w.Column}, [2]int{g.Line, g.Column}, p.String())
				}
			})
		}
	}
}

// Syntax errors in a CRLF or BOM file point where they do in the LF file.
func TestCRLFAndBOMErrorPositions(t *testing.T) {
	for name, src := range map[string]string{
		"unclosed flow":  "kind: Feature\n# c\nkey: [a\n",
		"duplicate key":  "kind: Feature\nkey: a\nkey: b\n",
		"leading zero":   "kind: Feature\n\nlimit: 0755\n",
		"two documents":  "kind: Feature\n---\nkind: Plan\n",
		"unknown kind":   "kind: Nope\n",
		"nul byte":       "kind: Feature\nkey: \x00\n",
		"invalid utf8":   "kind: Feature\nkey: \xff\n",
		"error on line1": "kind: [\n",
	} {
		want, wantDiags := yamldoc.ParseDocument("f.yaml", []byte(src), promotions.DefaultLimits)
		require.NotEmpty(t, wantDiags, name)
		for vname, variant := range lineEndVariants([]byte(src)) {
			t.Run(name+"/"+vname, func(t *testing.T) {
				got, diags := yamldoc.ParseDocument("f.yaml", variant, promotions.DefaultLimits)
				assert.Equal(t, want == nil, got == nil)
				assert.Equal(t, wantDiags, diags)
			})
		}
	}
}

// A "%YAML" directive before "---" opens the one document; it is not a
// document of its own.
func TestYAMLDirective(t *testing.T) {
	tests := []struct {
		name, src string
		code      promotions.Code
		line, col int
	}{
		{"directive then document", "%YAML 1.2\n---\nkind: Feature\nkey: sso\n", "", 0, 0},
		{"directive with a comment", "# header\n%YAML 1.2\n---\nkind: Feature\nkey: sso\n", "", 0, 0},
		{"directive in a CRLF file with a BOM", bom + "%YAML 1.2\r\n---\r\nkind: Feature\r\nkey: sso\r\n", "", 0, 0},
		{"directive, then two documents", "%YAML 1.2\n---\nkind: Feature\n---\nkind: Plan\n", promotions.CodeYAMLSyntax, 5, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, diags := yamldoc.ParseDocument("f.yaml", []byte(tt.src), promotions.DefaultLimits)
			if tt.code == "" {
				require.Empty(t, diags)
				assert.Equal(t, map[string]any{"kind": "Feature", "key": "sso"}, doc.Value)
				return
			}
			require.Len(t, diags, 1)
			assert.Equal(t, tt.code, diags[0].Code)
			assert.Equal(t, [2]int{tt.line, tt.col}, [2]int{diags[0].Line, diags[0].Column})
		})
	}
}

// An integer with a leading zero is octal to YAML 1.1 readers and decimal
// to YAML 1.2 ones: it is refused, naming the value, rather than read as
// either.
func TestLeadingZeroIntegerRefused(t *testing.T) {
	tests := []struct {
		name, src string
		refused   bool
		line, col int
		path      string
	}{
		{"octal-looking allowance", "kind: Feature\nmetered:\n  allowance: 060000\n", true, 3, 14, "metered.allowance"},
		{"negative", "kind: Feature\nx: -012\n", true, 2, 4, "x"},
		{"in a list", "kind: Feature\nx: [1, 07]\n", true, 2, 8, "x[1]"},
		{"not an octal digit: a string", "kind: Feature\nx: 0089\n", false, 0, 0, ""},
		{"zero", "kind: Feature\nx: 0\n", false, 0, 0, ""},
		{"decimal", "kind: Feature\nx: 60000\n", false, 0, 0, ""},
		{"explicit octal", "kind: Feature\nx: 0o17\n", false, 0, 0, ""},
		{"hex", "kind: Feature\nx: 0x1F\n", false, 0, 0, ""},
		{"quoted", "kind: Feature\nx: \"060000\"\n", false, 0, 0, ""},
		{"float", "kind: Feature\nx: 0.5\n", false, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, diags := yamldoc.ParseDocument("f.yaml", []byte(tt.src), promotions.DefaultLimits)
			if !tt.refused {
				require.Empty(t, diags)
				require.NotNil(t, doc)
				return
			}
			require.Nil(t, doc)
			require.Len(t, diags, 1)
			d := diags[0]
			assert.Equal(t, promotions.CodeYAMLSyntax, d.Code)
			assert.Equal(t, "f.yaml", d.File)
			assert.Equal(t, [2]int{tt.line, tt.col}, [2]int{d.Line, d.Column})
			assert.Equal(t, tt.path, d.Path.String())
			assert.Contains(t, d.Message, "leading zero")
		})
	}
}
