package yamldoc_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// FuzzParseDocument feeds arbitrary bytes to the loader: it must never
// panic, and every problem it reports must point into the file.
func FuzzParseDocument(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("..", "..", "examples", "acme", "*", "*.yaml"))
	for _, s := range seeds {
		if data, err := os.ReadFile(s); err == nil {
			f.Add(data)
			for _, variant := range lineEndVariants(data) {
				f.Add(variant)
			}
		}
	}
	for _, s := range []string{
		"", "kind: Feature\n", "kind: [\n", "a: &a [*a]\n", "- - - -\n", "kind: Feature\nkey: a\nkey: b\n",
		"---\n---\n", "kind: Feature\n<<: {a: 1}\n", "\xff\xfe", "kind: !!str 5\n", "? [a]\n: b\n",
		"kind: Feature\nx: |\n  a\n b\n", "{kind: Feature, key: {a: [b, {c: d}]}}\n", aliasBomb(),
		"kind: Feature\r\nkey: \"a\r\n  b\"\r\n", bom + "kind: Feature\n", bom, bom + bom + "kind: Feature\n", "kind: Feature\r\r\nx: 1\r",
		"%YAML 1.2\n---\nkind: Feature\n", "kind: Feature\nx: 060000\n", "kind: Feature\r\nx: |\r\n  a\r\n  b\r\n",
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
		// The same bytes saved with CRLF line ends or a BOM read the same.
		if !bytes.ContainsRune(src, '\r') && !bytes.HasPrefix(src, []byte(bom)) {
			for name, variant := range lineEndVariants(src) {
				vdoc, vdiags := yamldoc.ParseDocument("fuzz.yaml", variant, lim)
				if (vdoc == nil) != (doc == nil) || !reflect.DeepEqual(vdiags, diags) {
					t.Fatalf("%s reads differently: %v\nLF: %v", name, vdiags, diags)
				}
				if doc != nil && !reflect.DeepEqual(vdoc.Value, doc.Value) {
					t.Fatalf("%s reads other values: %v\nLF: %v", name, vdoc.Value, doc.Value)
				}
			}
		}
		if doc != nil {
			// Positions of arbitrary paths must resolve without panicking.
			_ = doc.Position(promotions.Diagnostic{Path: promotions.P("grants", "customers", 0, "id")})
			_ = doc.KeyPosition(promotions.Diagnostic{Path: promotions.P("kind")})
		}
	})
}
