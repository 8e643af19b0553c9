package fsutil_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/fsutil"
)

func TestWriteFileAtomic(t *testing.T) {
	t.Run("replaces content and keeps the mode", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "p.yaml")
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))
		require.NoError(t, fsutil.WriteFileAtomic(path, []byte("new"), 0o644))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "new", string(got))
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
		assertOnlyFiles(t, dir, "p.yaml")
	})
	t.Run("creates a new file with perm", func(t *testing.T) {
		dir := t.TempDir()
		path := filepath.Join(dir, "new.yaml")
		require.NoError(t, fsutil.WriteFileAtomic(path, []byte("x"), 0o640))
		info, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), info.Mode().Perm())
	})
	t.Run("writes through a symlink and keeps the link", func(t *testing.T) {
		dir := t.TempDir()
		target := filepath.Join(dir, "target.yaml")
		link := filepath.Join(dir, "link.yaml")
		require.NoError(t, os.WriteFile(target, []byte("old"), 0o644))
		require.NoError(t, os.Symlink("target.yaml", link))
		require.NoError(t, fsutil.WriteFileAtomic(link, []byte("new"), 0o644))
		info, err := os.Lstat(link)
		require.NoError(t, err)
		assert.NotZero(t, info.Mode()&os.ModeSymlink, "the link is still a link")
		got, err := os.ReadFile(target)
		require.NoError(t, err)
		assert.Equal(t, "new", string(got))
	})
	t.Run("fails in a missing directory and leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		err := fsutil.WriteFileAtomic(filepath.Join(dir, "missing", "p.yaml"), []byte("x"), 0o644)
		require.Error(t, err)
		assertOnlyFiles(t, dir)
	})
	t.Run("refuses to replace a directory", func(t *testing.T) {
		dir := t.TempDir()
		require.Error(t, fsutil.WriteFileAtomic(dir, []byte("x"), 0o644))
	})
}

func assertOnlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	got := []string{}
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if names == nil {
		names = []string{}
	}
	assert.Equal(t, names, got, "no temporary file is left behind")
}
