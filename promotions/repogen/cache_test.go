package repogen_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions/repogen"
)

func TestCached(t *testing.T) {
	// sentinel is a file Generate never writes: it survives only when
	// Cached reuses a directory instead of generating it again.
	const sentinel = "kept.txt"
	tests := []struct {
		name      string
		prepare   func(t *testing.T, dir string)
		wantReuse bool
	}{
		{
			name:    "generates a missing repo",
			prepare: func(*testing.T, string) {},
		},
		{
			name: "reuses a complete repo",
			prepare: func(t *testing.T, dir string) {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(dir, repogen.CompleteMarker), nil, 0o644))
				require.NoError(t, os.WriteFile(filepath.Join(dir, sentinel), nil, 0o644))
			},
			wantReuse: true,
		},
		{
			name: "regenerates a repo left without its marker",
			prepare: func(t *testing.T, dir string) {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(dir, sentinel), nil, 0o644))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			want := filepath.Join(root, "tiny-seed7")
			tt.prepare(t, want)

			dir, err := repogen.Cached(root, "Tiny", 7)
			require.NoError(t, err)
			assert.Equal(t, want, dir)
			assert.FileExists(t, filepath.Join(dir, repogen.CompleteMarker))
			_, err = os.Stat(filepath.Join(dir, sentinel))
			assert.Equal(t, tt.wantReuse, err == nil, "sentinel kept")
			if !tt.wantReuse {
				assert.DirExists(t, filepath.Join(dir, "promotions"))
			}
			entries, err := os.ReadDir(root)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary directory left in the root")
		})
	}
}

func TestCachedSameSeedSameRepo(t *testing.T) {
	root := t.TempDir()
	cached, err := repogen.Cached(root, "tiny", 3)
	require.NoError(t, err)
	fresh := t.TempDir()
	cfg, _ := repogen.Preset("tiny")
	cfg.Seed = 3
	require.NoError(t, repogen.Generate(fresh, cfg))
	got := readTree(t, cached)
	assert.Contains(t, got, repogen.CompleteMarker)
	delete(got, repogen.CompleteMarker)
	assert.Equal(t, readTree(t, fresh), got)
}

func TestCachedConcurrentCallersShareOneRepo(t *testing.T) {
	root := t.TempDir()
	var wg sync.WaitGroup
	dirs := make([]string, 3)
	errs := make([]error, 3)
	for i := range dirs {
		wg.Go(func() { dirs[i], errs[i] = repogen.Cached(root, "tiny", 1) })
	}
	wg.Wait()
	for i := range dirs {
		require.NoError(t, errs[i])
		assert.Equal(t, filepath.Join(root, "tiny-seed1"), dirs[i])
	}
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary directory left in the root")
}

func TestCachedRejectsUnknownSize(t *testing.T) {
	_, err := repogen.Cached(t.TempDir(), "XXL", 1)
	assert.ErrorContains(t, err, `unknown size "XXL"`)
}

func TestDefaultCacheRootFollowsTheEnvironment(t *testing.T) {
	t.Setenv(repogen.CacheDirEnv, "/somewhere/else")
	assert.Equal(t, "/somewhere/else", repogen.DefaultCacheRoot())
	t.Setenv(repogen.CacheDirEnv, "")
	assert.Equal(t, filepath.Join(os.TempDir(), "promoctl-bench"), repogen.DefaultCacheRoot())
}
