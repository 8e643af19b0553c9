package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/promotions"
)

// hostileFile is a promotion file name git allows: an escape sequence, a
// newline, markdown emphasis and a link.
const hostileFile = "promotions/x\x1b[31m\n\n**bold** [click](https://evil.example/x).yaml"

// validate's text output prints a path with escapes quoted: no escape
// byte and no newline of the name reaches the terminal.
func TestTextReportQuotesHostilePaths(t *testing.T) {
	d := promotions.ErrorAt(promotions.CodeSchema, hostileFile, promotions.P("name"), "name: bad")
	d.Line, d.Column = 3, 7
	var out bytes.Buffer
	require.NoError(t, report.Report{Diagnostics: promotions.Diagnostics{d}}.WriteText(&out))
	assert.NotContains(t, out.String(), "\x1b")
	assert.Equal(t, 1, strings.Count(out.String(), "\n"), "one line: %q", out.String())
	assert.Contains(t, out.String(), `"promotions/x\x1b[31m\n\n**bold** [click](https://evil.example/x).yaml":3:7: SCHEMA: name: bad`)
}

// diff --format markdown (the pull-request comment, and the console's
// branch page, which renders it) shows a hostile file name as text: no
// bold, no link, no line of its own.
func TestMarkdownChangesShowHostilePathsAsText(t *testing.T) {
	cs := &compiler.ChangeSet{Base: "origin/main", Head: "HEAD", Valid: true,
		Promotions: []compiler.PromotionChange{{ID: "x", File: hostileFile, Change: "created", MovedFrom: hostileFile}},
		Violations: []promotions.JSONDiagnostic{{File: hostileFile, Line: 1, Column: 1, Code: "LOCKED_FIELD", Message: "feature changed"}}}
	var md bytes.Buffer
	require.NoError(t, report.ChangesMarkdown(&md, cs))
	assert.NotContains(t, md.String(), "\x1b")
	assert.NotContains(t, md.String(), "\n**bold**")
	var html bytes.Buffer
	require.NoError(t, goldmark.New(goldmark.WithExtensions(extension.Table)).Convert(md.Bytes(), &html))
	assert.NotContains(t, html.String(), "<strong>bold")
	assert.NotContains(t, html.String(), `href="https://evil.example`)
	assert.Contains(t, html.String(), "**bold** [click](https://evil.example/x).yaml")

	var text bytes.Buffer
	require.NoError(t, report.ChangesText(&text, cs))
	assert.NotContains(t, text.String(), "\x1b")
}
