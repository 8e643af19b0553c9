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
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/promotions"
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
// comment; "warn CODE file:line:col" for warnings, compared exactly when
// the archive has a base). Other comment lines shape the tree on disk:
//
//	now TS                 loads the tree against a base (testdata/base,
//	                       with the archive's files under base/ laid over
//	                       it) with the check's clock at TS, as
//	                       validate --base --now TS does
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
			baseDir := filepath.Join(filepath.Dir(dir), "base")
			writeFiles(t, baseDir, readTestdata(t, "base"))
			for _, f := range ar.Files {
				if name, ok := strings.CutPrefix(f.Name, "base/"); ok {
					writeFiles(t, baseDir, map[string]string{name: string(f.Data)})
					continue
				}
				writeFiles(t, dir, map[string]string{f.Name: string(f.Data)})
			}
			var want, warn []string
			var now time.Time
			for _, line := range lines {
				fields := strings.Fields(line)
				switch {
				case len(fields) == 0:
				case fields[0] == "want":
					want = append(want, strings.TrimPrefix(line, "want "))
				case fields[0] == "warn":
					warn = append(warn, strings.TrimPrefix(line, "warn "))
				case fields[0] == "now" && len(fields) == 2:
					now, err = time.Parse(time.RFC3339, fields[1])
					require.NoError(t, err)
				case fields[0] == "symlink" && len(fields) == 3:
					target := strings.ReplaceAll(fields[2], "$OUTSIDE", outside)
					require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, fields[1])), 0o755))
					require.NoError(t, os.Symlink(target, filepath.Join(dir, fields[1])))
				case fields[0] == "fifo" && len(fields) == 2:
					require.NoError(t, syscall.Mkfifo(filepath.Join(dir, fields[1]), 0o644))
				}
			}
			require.NotEmpty(t, append(want, warn...), "archive names no expected error or warning")

			repo := compiler.OpenDir(dir)
			defer repo.Close()
			var res *compiler.Result
			if now.IsZero() {
				res, err = compiler.Load(repo, compiler.Options{})
			} else {
				base := compiler.OpenDir(baseDir)
				defer base.Close()
				res, err = compiler.LoadWithBase(repo, base, compiler.Options{Now: now})
			}
			require.NoError(t, err)
			list := func(ds promotions.Diagnostics) []string {
				var out []string
				for _, d := range ds {
					out = append(out, fmt.Sprintf("%s %s:%d:%d", d.Code, d.File, d.Line, d.Column))
					assert.NotEmpty(t, d.Message)
					assert.NotContains(t, d.Message, "leaked")
				}
				sort.Strings(out)
				return out
			}
			sort.Strings(want)
			assert.Equal(t, want, list(res.Diagnostics.Errors()), "diagnostics: %v", res.Diagnostics)
			assert.Equal(t, len(want) == 0, res.OK())
			if !now.IsZero() {
				sort.Strings(warn)
				assert.Equal(t, warn, list(res.Diagnostics.Warnings()), "diagnostics: %v", res.Diagnostics)
			}

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
