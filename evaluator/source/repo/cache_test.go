package repo

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

func cachedStore(t *testing.T, root, cache string) (*store.Store, *Loader) {
	t.Helper()
	l, err := NewLoader(root, promotions.Limits{}, nil).WithSnapshotCache(cache, "test")
	require.NoError(t, err)
	// The cache is written in the background: let the last write finish
	// before the temporary directories are removed.
	t.Cleanup(l.Flush)
	return store.New(l, nil), l
}

func TestSnapshotCache(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	cache := filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()

	first, l := cachedStore(t, root, cache)
	require.Equal(t, store.Swapped, first.Reload(ctx))
	l.Flush()
	info, err := os.Stat(filepath.Join(cache, SnapshotCacheFile))
	require.NoError(t, err, "a good load writes the cache")
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	dirInfo, err := os.Stat(cache)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), dirInfo.Mode().Perm())

	second, _ := cachedStore(t, root, cache)
	require.Equal(t, store.Swapped, second.Reload(ctx))
	st := second.Status()
	assert.Equal(t, 0, st.LastReload.Parsed, "started from the cache: nothing parsed")
	assert.Equal(t, first.Status().Revision, st.Revision)
	assert.Equal(t, first.Status().Counts, st.Counts)
	assert.Equal(t, int64(60000), apiCalls(t, second))
	assert.Equal(t, store.Unchanged, second.Reload(ctx), "unchanged content: still nothing parsed")

	setBoost(t, root, "7")
	require.Equal(t, store.Swapped, second.Reload(ctx))
	assert.Equal(t, int64(10007), apiCalls(t, second))
	assert.Equal(t, second.Status().LastReload.Files, second.Status().LastReload.Parsed, "the first change loads the whole repo")
}

func TestSnapshotCacheOfOtherContentIsNotUsed(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	cache := filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()
	first, l := cachedStore(t, root, cache)
	require.Equal(t, store.Swapped, first.Reload(ctx))
	l.Flush()

	setBoost(t, root, "7") // while the sidecar was down
	second, _ := cachedStore(t, root, cache)
	require.Equal(t, store.Swapped, second.Reload(ctx))
	assert.Positive(t, second.Status().LastReload.Parsed)
	assert.Equal(t, int64(10007), apiCalls(t, second))
}

func TestSnapshotCacheOfOtherVersionIsNotUsed(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	cache := filepath.Join(t.TempDir(), "cache")
	ctx := context.Background()
	first, l := cachedStore(t, root, cache)
	require.Equal(t, store.Swapped, first.Reload(ctx))
	l.Flush()

	other, err := NewLoader(root, promotions.Limits{}, nil).WithSnapshotCache(cache, "other")
	require.NoError(t, err)
	s := store.New(other, nil)
	require.Equal(t, store.Swapped, s.Reload(ctx))
	assert.Positive(t, s.Status().LastReload.Parsed)
}

func TestSnapshotCacheRefusesSharedDirectory(t *testing.T) {
	cache := t.TempDir()
	require.NoError(t, os.Chmod(cache, 0o777))
	_, err := NewLoader(t.TempDir(), promotions.Limits{}, nil).WithSnapshotCache(cache, "test")
	assert.ErrorContains(t, err, "writable by other users")
}
