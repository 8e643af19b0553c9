package compiler

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
)

func TestCheckRepoSize(t *testing.T) {
	repo := fstest.MapFS{
		"a.yaml":   {Data: []byte(strings.Repeat("a", 400))},
		"b/c.yaml": {Data: []byte(strings.Repeat("c", 400))},
		"d.yaml":   {Data: []byte(strings.Repeat("d", 400))},
	}
	files := []string{"a.yaml", "b/c.yaml", "d.yaml"}
	tests := []struct {
		name     string
		limit    int64
		wantFile string // empty: within the limit
	}{
		{"every file fits", 1200, ""},
		{"crossed at the second file", 799, "b/c.yaml"},
		{"crossed at the first file", 399, "a.yaml"},
		{"crossed at the last file", 1199, "d.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lim := promotions.DefaultLimits
			lim.MaxRepoBytes = tt.limit
			diags := checkRepoSize(repo, files, lim)
			if tt.wantFile == "" {
				assert.Empty(t, diags)
				return
			}
			require.Len(t, diags, 1)
			d := diags[0]
			assert.Equal(t, tt.wantFile, d.File)
			assert.Equal(t, promotions.CodeYAMLSyntax, d.Code)
			assert.Equal(t, promotions.SeverityError, d.Severity)
			assert.Equal(t, 1, d.Line)
			assert.Contains(t, d.Message, "more than the repo limit")
		})
	}
}
