package yamldoc_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// FuzzParseDocument feeds arbitrary bytes to the loader: it must never
// panic, and every problem it reports must point into the file.
func FuzzParseDocument(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "examples", "acme", "*", "*.yaml"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		"", "kind: Feature\n", "kind: [\n", "a: &a [*a]\n", "- - - -\n", "kind: Feature\nkey: a\nkey: b\n",
		"---\n---\n", "kind: Feature\n<<: {a: 1}\n", "\xff\xfe", "kind: !!str 5\n", "? [a]\n: b\n",
		"kind: Feature\nx: |\n  a\n b\n", "{kind: Feature, key: {a: [b, {c: d}]}}\n", aliasBomb(),
	} {
		f.Add([]byte(s))
	}
	lim := promotions.DefaultLimits
	lim.MaxAliasNodes = 1000
	f.Fuzz(func(t *testing.T, src []byte) {
		doc, diags := yamldoc.ParseDocument("fuzz.yaml", src, lim)
		for _, d := range diags {
			if d.Line < 1 || d.Column < 1 {
				t.Fatalf("diagnostic without a position: %v", d)
			}
			if d.Code == "" || d.Message == "" {
				t.Fatalf("diagnostic without code or message: %#v", d)
			}
		}
		if doc == nil && len(diags) == 0 {
			t.Fatal("no document and no diagnostic")
		}
		if doc != nil {
			// Positions of arbitrary paths must resolve without panicking.
			_ = doc.Position(promotions.Diagnostic{Path: promotions.P("grants", "customers", 0, "id")})
			_ = doc.KeyPosition(promotions.Diagnostic{Path: promotions.P("kind")})
		}
	})
}
