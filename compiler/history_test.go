package compiler_test

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions"
)

// TestGrantHistoryLock runs each testdata/history/*.txtar: base/ and head/
// files laid over the base repo, the head loaded against the base, and the
// exact set of GRANT_HISTORY_CHANGED and GRANT_REMOVED errors expected
// ("want CODE file:line:col" lines; none means the head is valid).
func TestGrantHistoryLock(t *testing.T) {
	archives, err := filepath.Glob(filepath.Join("testdata", "history", "*.txtar"))
	require.NoError(t, err)
	require.NotEmpty(t, archives)
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			require.NoError(t, err)
			base, head := baseRepo(t), baseRepo(t)
			for _, f := range ar.Files {
				side, name, ok := strings.Cut(f.Name, "/")
				require.True(t, ok && (side == "base" || side == "head"), "file %s is neither under base/ nor head/", f.Name)
				target := map[string]fstest.MapFS{"base": base, "head": head}[side]
				target[name] = &fstest.MapFile{Data: f.Data}
			}
			want := []string{}
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				if rest, ok := strings.CutPrefix(line, "want "); ok {
					want = append(want, rest)
				}
			}
			res, err := compiler.LoadWithBase(head, base, compiler.Options{})
			require.NoError(t, err)
			got := []string{}
			for _, d := range res.Diagnostics.Errors() {
				if d.Code == promotions.CodeGrantHistoryChanged || d.Code == promotions.CodeGrantRemoved {
					got = append(got, fmt.Sprintf("%s %s:%d:%d", d.Code, d.File, d.Line, d.Column))
					assert.Contains(t, d.Message, "period", "the message names the period")
				}
			}
			sort.Strings(want)
			sort.Strings(got)
			assert.Equal(t, want, got, "diagnostics: %v", res.Diagnostics)
			if len(want) == 0 {
				assert.True(t, res.OK(), "diagnostics: %v", res.Diagnostics)
			}
		})
	}
}
