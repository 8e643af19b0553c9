package safetext_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/promoctl/promoctl/internal/safetext"
)

func TestPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"promotions/spring.yaml", "promotions/spring.yaml"},
		{"promotions/été 2026.yaml", "promotions/été 2026.yaml"},
		{"promotions/\x1b[31mred.yaml", `"promotions/\x1b[31mred.yaml"`},
		{"promotions/a\nb.yaml", `"promotions/a\nb.yaml"`},
		{"promotions/\xff.yaml", `"promotions/\xff.yaml"`},
		{"promotions/\u202egnp.yaml", `"promotions/\u202egnp.yaml"`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, safetext.Path(tt.in), "%q", tt.in)
	}
}

func TestText(t *testing.T) {
	assert.Equal(t, `a "quoted" \ text`, safetext.Text(`a "quoted" \ text`))
	assert.Equal(t, `red \x1b[31m and\nnext`, safetext.Text("red \x1b[31m and\nnext"))
}

// A path with markdown and newlines renders as the text of one code span:
// no bold, no link, no heading, no second table row.
func TestMarkdownCodeRendersLiterally(t *testing.T) {
	hostile := []string{
		"promotions/x\n**bold** [click](https://evil.example/x)\n# heading.yaml",
		"promotions/`**bold**`.yaml",
		"promotions/``x``.yaml",
		"promotions/<img src=x onerror=alert(1)>.yaml",
		"promotions/a|b.yaml",
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table))
	for _, p := range hostile {
		var out bytes.Buffer
		src := "| where | code |\n|---|---|\n| " + safetext.MarkdownCode(p, true) + " | X |\n\n- " + safetext.MarkdownCode(p, false) + "\n"
		require.NoError(t, md.Convert([]byte(src), &out))
		html := out.String()
		for _, bad := range []string{"<strong>", "<a ", "<h1", "<img", "<em>"} {
			assert.NotContains(t, html, bad, "%q renders as markup:\n%s", p, html)
		}
		assert.Equal(t, 2, bytes.Count(out.Bytes(), []byte("<tr>")), "one header row and one row: %s", html)
		assert.Equal(t, 2, bytes.Count(out.Bytes(), []byte("<code>")), "%s", html)
	}
}
