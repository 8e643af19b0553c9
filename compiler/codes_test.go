package compiler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
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
// repo, written to disk and loaded as the CLI loads a repo, and the exact
// set of errors expected ("want CODE file:line:col" lines in the archive's
// comment). Other comment lines shape the tree on disk:
//
//	remove NAME            removes a file or directory of the base repo
//	symlink NAME TARGET    makes NAME a link to TARGET; $OUTSIDE is a
//	                       directory outside the repo holding secret.yaml
//	fifo NAME              makes NAME a named pipe
//
// A file's content must never appear in a message: secret.yaml's does not.
func TestErrorCodes(t *testing.T) {
	archives, err := filepath.Glob(filepath.Join("testdata", "codes", "*.txtar"))
	require.NoError(t, err)
	require.NotEmpty(t, archives)
	for _, path := range archives {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(path)
			require.NoError(t, err)
			dir := filepath.Join(t.TempDir(), "repo")
			outside := filepath.Join(filepath.Dir(dir), "outside")
			require.NoError(t, os.MkdirAll(outside, 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(outside, "secret.yaml"), []byte(outsideSecret), 0o600))
			writeFiles(t, dir, readTestdata(t, "base"))
			lines := strings.Split(string(ar.Comment), "\n")
			for _, line := range lines {
				if fields := strings.Fields(line); len(fields) == 2 && fields[0] == "remove" {
					require.NoError(t, os.RemoveAll(filepath.Join(dir, fields[1])))
				}
			}
			for _, f := range ar.Files {
				writeFiles(t, dir, map[string]string{f.Name: string(f.Data)})
			}
			var want []string
			for _, line := range lines {
				fields := strings.Fields(line)
				switch {
				case len(fields) == 0:
				case fields[0] == "want":
					want = append(want, strings.TrimPrefix(line, "want "))
				case fields[0] == "symlink" && len(fields) == 3:
					target := strings.ReplaceAll(fields[2], "$OUTSIDE", outside)
					require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, fields[1])), 0o755))
					require.NoError(t, os.Symlink(target, filepath.Join(dir, fields[1])))
				case fields[0] == "fifo" && len(fields) == 2:
					require.NoError(t, syscall.Mkfifo(filepath.Join(dir, fields[1]), 0o644))
				}
			}
			require.NotEmpty(t, want, "archive names no expected error")

			repo := compiler.OpenDir(dir)
			defer repo.Close()
			res, err := compiler.Load(repo, compiler.Options{})
			require.NoError(t, err)
			var got []string
			for _, d := range res.Diagnostics.Errors() {
				got = append(got, fmt.Sprintf("%s %s:%d:%d", d.Code, d.File, d.Line, d.Column))
				assert.NotEmpty(t, d.Message)
				assert.NotContains(t, d.Message, "leaked")
			}
			sort.Strings(want)
			sort.Strings(got)
			assert.Equal(t, want, got, "diagnostics: %v", res.Diagnostics)
			assert.False(t, res.OK())

			var text strings.Builder
			require.NoError(t, report.Report{Diagnostics: res.Diagnostics, Source: repo}.WriteText(&text))
			assert.NotContains(t, text.String(), "leaked")
		})
	}
}

// outsideSecret is a file outside the repo that links in the repo point
// to; nothing of it may be printed.
const outsideSecret = "kind: Feature\nkey: leaked-secret-value\nname: leaked\ntype: boolean\n"

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}
