package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/fsutil"
)

// applyRepo extracts testdata/apply/repo.txtar into a temporary directory.
func applyRepo(t *testing.T) string {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", "apply", "repo.txtar"))
	require.NoError(t, err)
	dir := t.TempDir()
	for _, f := range ar.Files {
		path := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(f.Name, "repo/")))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, f.Data, 0o644))
	}
	return dir
}

// treeContents reads every file of a repo, to prove a command wrote nothing.
// The editing commands' lock directory (.promoctl) is not content.
func treeContents(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == fsutil.LockDir {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files[p] = string(data)
		return err
	}))
	return files
}

// Refusals exit 1, usage errors exit 2, and neither writes anything.
func TestApplyExitCodesAndNothingWritten(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"unknown customer", []string{"grant", "boost", "--customers", "cus_999", "--at", "2026-04-01T00:00:00Z"}, 1, "refused cus_999: not in the customer directory"},
		{"ineligible customer", []string{"grant", "boost", "--customers", "cus_004", "--at", "2026-04-01T00:00:00Z"}, 1, "refused cus_004: not eligible"},
		{"outside the window", []string{"grant", "boost", "--customers", "cus_005", "--at", "2026-02-01T00:00:00Z"}, 1, "outside the promotion window"},
		{"create over an existing promotion", []string{"create", "boost", "--feature", "sso"}, 1, "already exists"},
		{"create with an unknown plan fails validation", []string{"create", "p", "--feature", "sso", "--eligible-plan", "nope"}, 1, "UNKNOWN_PLAN"},
		{"no selector", []string{"grant", "boost"}, 2, "exactly one of"},
		{"two selectors", []string{"regrant", "boost", "--all-revoked", "--search", "x"}, 2, "exactly one of"},
		{"unknown promotion", []string{"revoke", "nope", "--all-granted"}, 2, `no promotion "nope"`},
		{"bad --at", []string{"deactivate", "boost", "--at", "soon"}, 2, "--at"},
		{"missing customers file", []string{"grant", "boost", "--customers-file", "/nonexistent/ids.txt"}, 2, "--customers-file"},
		{"metered flags on a boolean feature", []string{"create", "p", "--feature", "sso", "--reset", "daily"}, 2, "metered features only"},
		{"bad duration", []string{"create", "p", "--feature", "sso", "--duration", "2m"}, 2, "--duration"},
		{"bad state filter", []string{"customers", "boost", "--state", "all"}, 2, "--state"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := applyRepo(t)
			before := treeContents(t, dir)
			var stdout, stderr bytes.Buffer
			code := run(append(tt.args, "--repo", dir), strings.NewReader(""), &stdout, &stderr)
			assert.Equal(t, tt.code, code, stderr.String())
			assert.Contains(t, stderr.String(), tt.stderr)
			assert.Equal(t, before, treeContents(t, dir), "nothing is written")
		})
	}
}

// An invalid repo is not edited: the result could not be told apart from a
// change that breaks it.
func TestApplyRefusesAnInvalidRepo(t *testing.T) {
	dir := applyRepo(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "features", "broken.yaml"), []byte("kind: Feature\nkey: BAD KEY\n"), 0o644))
	before := treeContents(t, dir)
	var stdout, stderr bytes.Buffer
	code := run([]string{"grant", "boost", "--customers", "cus_005", "--at", "2026-04-01T00:00:00Z", "--repo", dir}, strings.NewReader(""), &stdout, &stderr)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr.String(), "features/broken.yaml")
	assert.Contains(t, stderr.String(), "the repo is invalid before any change")
	assert.Equal(t, before, treeContents(t, dir))
}
