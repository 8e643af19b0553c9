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
)

// baseRepo reads testdata/base, a small valid repo, into memory.
func baseRepo(t testing.TB) fstest.MapFS {
	t.Helper()
	repo := fstest.MapFS{}
	for name, data := range readTestdata(t, "base") {
		repo[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return repo
}

func TestBaseRepoIsValid(t *testing.T) {
	res, err := compiler.Load(baseRepo(t), compiler.Options{})
	require.NoError(t, err)
	assert.Empty(t, res.Diagnostics)
	assert.True(t, res.OK())
}

// TestErrorCodes runs each testdata/codes/*.txtar: files laid over the base
// repo, and the exact set of errors expected ("want CODE file:line:col"
// lines in the archive's comment).
func TestErrorCodes(t *testing.T) {
	archives, err := filepath.Glob(filepath.Join("testdata", "codes", "*.txtar"))
	require.NoError(t, err)
	require.NotEmpty(t, archives)
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			require.NoError(t, err)
			repo := baseRepo(t)
			for _, f := range ar.Files {
				repo[f.Name] = &fstest.MapFile{Data: f.Data}
			}
			var want []string
			for _, line := range strings.Split(string(ar.Comment), "\n") {
				if rest, ok := strings.CutPrefix(line, "want "); ok {
					want = append(want, rest)
				}
			}
			require.NotEmpty(t, want, "archive names no expected error")

			res, err := compiler.Load(repo, compiler.Options{})
			require.NoError(t, err)
			var got []string
			for _, d := range res.Diagnostics.Errors() {
				got = append(got, fmt.Sprintf("%s %s:%d:%d", d.Code, d.File, d.Line, d.Column))
				assert.NotEmpty(t, d.Message)
			}
			sort.Strings(want)
			sort.Strings(got)
			assert.Equal(t, want, got, "diagnostics: %v", res.Diagnostics)
			assert.False(t, res.OK())
		})
	}
}
