package yamldoc

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
)

// fullParse is what parseRoot does when parseBlock declines.
func fullParse(src []byte) (ast.Node, bool) {
	root, err := parseFull(src)
	return root, err == nil && root != nil
}

// requireSameAsParser checks that the two ASTs convert to the same values
// and diagnostics and put every path, and a missing key under every
// mapping, at the same position.
func requireSameAsParser(t *testing.T, src []byte, fast, full ast.Node) {
	t.Helper()
	convert := func(root ast.Node) (any, promotions.Diagnostics) {
		c := converter{file: "f.yaml", lim: promotions.DefaultLimits, anchors: map[string]ast.Node{}}
		return c.convert(root, nil, 0), c.diags
	}
	fastValue, fastDiags := convert(fast)
	fullValue, fullDiags := convert(full)
	// %#v rather than Equal: NaN is not equal to itself.
	require.Equal(t, fmt.Sprintf("%#v", fullValue), fmt.Sprintf("%#v", fastValue), "values of\n%s", src)
	require.Equal(t, fullDiags, fastDiags, "diagnostics of\n%s", src)
	var paths []promotions.Path
	var walk func(v any, p promotions.Path)
	walk = func(v any, p promotions.Path) {
		paths = append(paths, p)
		switch v := v.(type) {
		case map[string]any:
			paths = append(paths, p.Key("not-a-key"))
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(v[k], p.Key(k))
			}
		case []any:
			paths = append(paths, p.Index(len(v)))
			for i, e := range v {
				walk(e, p.Index(i))
			}
		}
	}
	walk(fullValue, nil)
	for _, p := range paths {
		for _, key := range []bool{false, true} {
			fl, fc := locate(full, p, key)
			gl, gc := locate(fast, p, key)
			require.Equal(t, [2]int{fl, fc}, [2]int{gl, gc}, "position of %v (key %v) in\n%s", p, key, src)
		}
	}
}

// requireDeclinedSameAsParser requires parseRoot, which hands a declined
// file's tokens to goccy's parser, to give what parsing afresh gives.
func requireDeclinedSameAsParser(t *testing.T, src []byte) {
	t.Helper()
	reused, reusedErr := parseRoot(src)
	fresh, freshErr := parseFull(src)
	require.Equal(t, fmt.Sprint(freshErr), fmt.Sprint(reusedErr), "error of\n%s", src)
	if fresh == nil || reused == nil {
		require.Equal(t, fresh == nil, reused == nil, "document of\n%s", src)
		return
	}
	requireSameAsParser(t, src, reused, fresh)
}

// requireFastAndSame requires src to take the fast path and to give what
// goccy's parser gives.
func requireFastAndSame(t *testing.T, src []byte) {
	t.Helper()
	fast, _, ok := parseBlock(src)
	require.True(t, ok, "takes the fast path:\n%s", src)
	full, ok := fullParse(src)
	require.True(t, ok, "parses:\n%s", src)
	requireSameAsParser(t, src, fast, full)
}

func TestParseBlockMatchesParserOnExamples(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		filepath.Join("..", "examples", "acme", "*", "*.yaml"),
		filepath.Join("testdata", "edit", "*.yaml"),
	} {
		found, err := filepath.Glob(pattern)
		require.NoError(t, err)
		files = append(files, found...)
	}
	require.NotEmpty(t, files)
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		t.Run(filepath.Base(file), func(t *testing.T) { requireFastAndSame(t, src) })
	}
}

func TestParseBlockInline(t *testing.T) {
	cases := map[string]string{
		"document header":       "---\nkind: Feature\nkey: a\n",
		"comment, then header":  "# c\n---\nkind: Feature\n",
		"comments everywhere":   "# head\nkind: Feature # kind\n# between\nkey: a\n  # indented\n",
		"list at key column":    "kind: X\nlist:\n- a\n- b\nnext: 1\n",
		"indented list":         "kind: X\nlist:\n    - a\n    - b\nnext: 1\n",
		"compact mappings":      "kind: X\nl:\n  - id: a\n    n: 1\n  - id: b\n",
		"empty values":          "kind: X\na:\nb: ~\nc: null\nd: ''\n",
		"empty value at end":    "kind: X\na:",
		"nested mappings":       "kind: X\na:\n  b:\n    c: d\n  e: f\ng: h\n",
		"scalars":               "kind: X\ni: 12\nh: 0x1F\no: 0o17\nf: 1.5\ninf: .inf\nnan: .nan\nb: true\nq: \"x: y\"\ns: 'it''s'\nt: 2026-01-01T00:00:00Z\n",
		"flow collections":      "kind: X\na: [a, 'b', 1, true]\nb: []\nc: {}\nd: {k: v, l: [x, y], m: {n: o}}\ne: [a, b,]\n",
		"duplicate keys":        "kind: X\na: 1\na: 2\nb: {c: 1, c: 2}\n",
		"unicode":               "kind: X\nname: Zoë Café ☕\n",
		"quoted keys":           "kind: X\n\"a b\": 1\n'c': 2\n",
		"numeric keys":          "kind: X\n1: a\ntrue: b\n",
		"deep list in list map": "kind: X\nl:\n  - id: a\n    m:\n      - x\n      - y\n    n: 1\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) { requireFastAndSame(t, []byte(src)) })
	}
}

func TestParseBlockDeclines(t *testing.T) {
	cases := map[string]string{
		"empty":                  "",
		"only a comment":         "# nothing\n",
		"top-level list":         "- a\n",
		"top-level scalar":       "a\n",
		"anchor and alias":       "kind: X\na: &x 1\nb: *x\n",
		"tag":                    "kind: !!str X\n",
		"literal block":          "kind: X\nd: |\n  text\n",
		"folded block":           "kind: X\nd: >\n  text\n",
		"multi-line plain":       "kind: X\nd: one\n  two\n",
		"multi-line quoted":      "kind: X\nd: \"one\n  two\"\n",
		"two documents":          "kind: X\n---\nkind: Y\n",
		"document end":           "kind: X\n...\n",
		"tab":                    "kind: X\na:\n\t- b\n",
		"crlf":                   "kind: X\r\na: b\r\n",
		"value on next line":     "kind: X\na:\n  b\n",
		"empty list item":        "kind: X\nl:\n  -\n  - b\n",
		"item on next line":      "kind: X\nl:\n  -\n    b\n",
		"nested compact list":    "kind: X\nl:\n  - - a\n",
		"mapping in mapping":     "kind: X\na: b: c\n",
		"over-indented key":      "kind: X\na:\n  b: 1\n   c: 2\n",
		"under-indented key":     "kind: X\na:\n    b: 1\n  c: 2\n",
		"list after scalar":      "kind: X\na: 1\n- b\n",
		"multi-line flow":        "kind: X\na: [b,\n  c]\n",
		"nested flow pair":       "kind: X\na: [b: c]\n",
		"empty flow value":       "kind: X\na: {b: }\n",
		"merge key":              "kind: X\n<<: {a: 1}\n",
		"explicit key":           "? a\n: b\n",
		"flow mapping document":  "{kind: X}\n",
		"unclosed flow":          "kind: X\na: [b\n",
		"two values":             "kind: X\na: b c: d\n",
		"mapping on header line": "--- kind: X\n",
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, ok := parseBlock([]byte(src))
			assert.False(t, ok)
			requireDeclinedSameAsParser(t, []byte(src))
		})
	}
}

func FuzzBlockParseMatchesParser(f *testing.F) {
	for _, pattern := range []string{
		filepath.Join("..", "..", "examples", "acme", "*", "*.yaml"),
		filepath.Join("testdata", "edit", "*.yaml"),
	} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				f.Add(src)
				f.Add(append([]byte("\xEF\xBB\xBF"), bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))...))
			}
		}
	}
	for _, s := range []string{
		"kind: X\nl:\n- a\n- b\nn: 1\n", "kind: X\na:\n  b:\n    - {c: [d]}\n", "kind: X\na: b\n  c: d\n",
		"kind: X\nl:\n  - a\n  b: c\n", "a: 1\n b: 2\n", " a: 1\nb: 2\n", "a:\n- b\n  - c\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 8<<10 {
			return
		}
		// Both paths see a file as ParseDocument hands it over: without
		// its BOM, CRLF line ends as LF.
		src = normalize(src).src
		fast, _, ok := parseBlock(src)
		if !ok {
			requireDeclinedSameAsParser(t, src)
			return
		}
		full, ok := fullParse(src)
		require.True(t, ok, "the fast path accepted what goccy's parser rejects:\n%s", src)
		requireSameAsParser(t, src, fast, full)
	})
}
