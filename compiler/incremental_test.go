package compiler_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
)

// A reload through the cache must give exactly what a fresh load of the
// same files gives, whichever files changed.
func TestCachedReloadEqualsFreshLoad(t *testing.T) {
	boost := func(repo fstest.MapFS) string { return string(repo["promotions/boost.yaml"].Data) }
	steps := []struct {
		name   string
		change func(repo fstest.MapFS)
	}{
		{"nothing", func(repo fstest.MapFS) {}},
		{"promotion edited", func(repo fstest.MapFS) {
			repo["promotions/boost.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(boost(repo), "name: Boost", "name: Boost 2", 1))}
		}},
		{"promotion breaks a cross-file rule", func(repo fstest.MapFS) {
			repo["promotions/boost.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(boost(repo), "id: cus_1", "id: cus_404", 1))}
		}},
		{"promotion added", func(repo fstest.MapFS) {
			repo["promotions/extra.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(boost(repo), "id: boost", "id: extra", 1))}
		}},
		{"promotion added with a duplicate id", func(repo fstest.MapFS) {
			repo["promotions/copy.yaml"] = &fstest.MapFile{Data: []byte(boost(repo))}
		}},
		{"promotion file renamed", func(repo fstest.MapFS) {
			repo["promotions/renamed.yaml"] = repo["promotions/boost.yaml"]
			delete(repo, "promotions/boost.yaml")
		}},
		{"promotion removed", func(repo fstest.MapFS) { delete(repo, "promotions/boost.yaml") }},
		{"customer directory changed", func(repo fstest.MapFS) {
			c := string(repo["customers/customers.yaml"].Data)
			repo["customers/customers.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(c, "plan: starter", "plan: growth", 1))}
		}},
		{"plan changed", func(repo fstest.MapFS) {
			p := string(repo["plans/starter.yaml"].Data)
			repo["plans/starter.yaml"] = &fstest.MapFile{Data: []byte(strings.Replace(p, "allowance: 1000", "allowance: 2000", 1))}
		}},
		{"a file breaks", func(repo fstest.MapFS) {
			repo["promotions/boost.yaml"] = &fstest.MapFile{Data: []byte("kind: [\n")}
		}},
	}
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			repo := baseRepo(t)
			cache := compiler.NewCache()
			first, err := compiler.Load(repo, compiler.Options{Cache: cache})
			require.NoError(t, err)
			require.True(t, first.OK())

			tt.change(repo)
			cached, err := compiler.Load(repo, compiler.Options{Cache: cache})
			require.NoError(t, err)
			fresh, err := compiler.Load(repo, compiler.Options{})
			require.NoError(t, err)

			assert.Equal(t, fresh.Diagnostics, cached.Diagnostics)
			assert.Equal(t, fresh.ContentHash, cached.ContentHash)
			require.Equal(t, fresh.Model == nil, cached.Model == nil)
			if fresh.Model != nil {
				assert.Equal(t, fresh.Model.PromotionIDs(), cached.Model.PromotionIDs())
				assert.Equal(t, fresh.Model.CustomerIDs(), cached.Model.CustomerIDs())
				for id, p := range fresh.Model.Promotions {
					assert.Equal(t, *p, *cached.Model.Promotions[id])
				}
				for id, c := range fresh.Model.Customers {
					assert.Equal(t, *c, *cached.Model.Customers[id])
				}
			}
			// And one more reload after that, from the derived state.
			again, err := compiler.Load(repo, compiler.Options{Cache: cache})
			require.NoError(t, err)
			assert.Equal(t, fresh.Diagnostics, again.Diagnostics)
			assert.Zero(t, again.Parsed, "nothing changed, nothing re-parsed")
		})
	}
}

// A reload reads only files whose size or modification time changed, and
// sees a change of content that keeps the size.
func TestReloadReadsOnlyChangedFiles(t *testing.T) {
	dir := t.TempDir()
	for name, f := range baseRepo(t) {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, f.Data, 0o644))
	}
	cache := compiler.NewCache()
	first, err := compiler.Load(os.DirFS(dir), compiler.Options{Cache: cache})
	require.NoError(t, err)
	require.Equal(t, first.Files, first.Parsed)

	again, err := compiler.Load(os.DirFS(dir), compiler.Options{Cache: cache})
	require.NoError(t, err)
	assert.Zero(t, again.Parsed)
	assert.Equal(t, first.ContentHash, again.ContentHash)

	// Same size, new content, new modification time.
	path := filepath.Join(dir, "promotions", "boost.yaml")
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	edited := strings.Replace(string(src), "allowance: 5000", "allowance: 6000", 1)
	require.Len(t, edited, len(src))
	require.NoError(t, os.WriteFile(path, []byte(edited), 0o644))
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(path, later, later))

	changed, err := compiler.Load(os.DirFS(dir), compiler.Options{Cache: cache})
	require.NoError(t, err)
	assert.Equal(t, 1, changed.Parsed)
	assert.NotEqual(t, first.ContentHash, changed.ContentHash)
	assert.Equal(t, int64(6000), changed.Model.Promotions["boost"].Metered.Allowance.Value)
}
