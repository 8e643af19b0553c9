package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/promotions"
)

// JSON outputs keep <, > and & as written: they are read by people and CI
// tools, not embedded in HTML.
func TestJSONOutputsKeepHTMLCharacters(t *testing.T) {
	const message = `name "Lindqvist & Daughters <EU>" is too long`
	d := promotions.ErrorAt(promotions.CodeSchema, "customers/eu.yaml", promotions.P("customers", 0, "name"), message)
	d.Line, d.Column = 3, 5
	rep := report.Report{Diagnostics: promotions.Diagnostics{d}}
	changes := &compiler.ChangeSet{Base: "origin/main", Head: "working tree", Violations: []promotions.JSONDiagnostic{rep.JSON().Errors[0]},
		Customers: compiler.ObjectChanges{Added: compiler.IDSample{Count: 1, IDs: []string{"a&b"}}}}
	tests := []struct {
		name  string
		write func(*bytes.Buffer) error
		want  string
	}{
		{"validate --format json", func(b *bytes.Buffer) error { return rep.WriteJSON(b) }, message},
		{"validate --format sarif", func(b *bytes.Buffer) error { return rep.WriteSARIF(b, report.SARIFOptions{}) }, message},
		{"diff --format json", func(b *bytes.Buffer) error { return report.ChangesJSON(b, changes) }, "a&b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, tt.write(&out))
			assert.True(t, json.Valid(out.Bytes()), out.String())
			assert.NotContains(t, out.String(), `\u00`)
			assert.Contains(t, out.String(), jsonText(tt.want))
		})
	}
}

// jsonText is s as it appears inside a JSON string without HTML escaping.
func jsonText(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}
