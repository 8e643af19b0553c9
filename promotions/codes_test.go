package promotions_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docs/rules.md lists every code promoctl reports, and nothing else: its
// table is held equal to the Code constants of this package, read from
// the source so that a constant added without a row cannot pass.
func TestCodesDocumented(t *testing.T) {
	assert.Equal(t, definedCodes(t), documentedCodes(t, "../docs/rules.md"),
		"docs/rules.md's table of codes differs from the Code constants of package promotions")
}

// definedCodes reads the values of every constant of type Code.
func definedCodes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	var codes []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok || gen.Tok != token.CONST {
				continue
			}
			for _, spec := range gen.Specs {
				vs := spec.(*ast.ValueSpec)
				if typ, ok := vs.Type.(*ast.Ident); !ok || typ.Name != "Code" {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					require.True(t, ok, "%s: a Code constant that is not a string literal", fset.Position(v.Pos()))
					code, err := strconv.Unquote(lit.Value)
					require.NoError(t, err)
					codes = append(codes, code)
				}
			}
		}
	}
	require.NotEmpty(t, codes)
	sort.Strings(codes)
	return codes
}

// documentedCodes reads the first column of the table after the page's
// "<!-- codes" marker.
func documentedCodes(t *testing.T, page string) []string {
	t.Helper()
	raw, err := os.ReadFile(page)
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(raw), "<!-- codes")
	require.True(t, ok, "%s has no <!-- codes marker before its table of codes", page)
	lines := strings.Split(rest, "\n")[1:]
	var codes []string
	for i, line := range lines {
		if !strings.HasPrefix(line, "|") {
			break
		}
		if i < 2 {
			continue // the header and its rule
		}
		first := strings.TrimSpace(strings.Split(line, "|")[1])
		code, ok := strings.CutPrefix(first, "`")
		code, ok2 := strings.CutSuffix(code, "`")
		require.True(t, ok && ok2 && !strings.ContainsAny(code, "` ,"), "%s: a row whose first column is not one code: %q", page, line)
		codes = append(codes, code)
	}
	require.NotEmpty(t, codes, "%s: no table after the marker", page)
	sort.Strings(codes)
	return codes
}
