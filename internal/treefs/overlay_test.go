package treefs_test

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/internal/treefs"
)

func TestOverlay(t *testing.T) {
	base := fstest.MapFS{
		"features/sso.yaml":  {Data: []byte("base feature")},
		"promotions/a.yaml":  {Data: []byte("old a")},
		"promotions/b.yaml":  {Data: []byte("b")},
		".git/HEAD":          {Data: []byte("ref")},
		"customers/all.yaml": {Data: []byte("customers")},
	}
	o := treefs.Overlay(base, map[string][]byte{
		"promotions/a.yaml":     []byte("new a"),
		"promotions/new/c.yaml": []byte("c"),
		"top.yaml":              []byte("top"),
	})

	t.Run("passes the fs.FS conformance test", func(t *testing.T) {
		require.NoError(t, fstest.TestFS(o, "promotions/a.yaml", "promotions/b.yaml", "promotions/new/c.yaml", "top.yaml", "features/sso.yaml"))
	})
	t.Run("replaced and added files read from memory", func(t *testing.T) {
		for name, want := range map[string]string{"promotions/a.yaml": "new a", "promotions/new/c.yaml": "c", "top.yaml": "top", "promotions/b.yaml": "b"} {
			got, err := fs.ReadFile(o, name)
			require.NoError(t, err, name)
			assert.Equal(t, want, string(got), name)
		}
	})
	t.Run("the config walk sees the overlay", func(t *testing.T) {
		files, err := compiler.ConfigFiles(o)
		require.NoError(t, err)
		assert.Equal(t, []string{"customers/all.yaml", "features/sso.yaml", "promotions/a.yaml", "promotions/b.yaml", "promotions/new/c.yaml", "top.yaml"}, files)
	})
	t.Run("the base is not changed", func(t *testing.T) {
		got, err := fs.ReadFile(base, "promotions/a.yaml")
		require.NoError(t, err)
		assert.Equal(t, "old a", string(got))
	})
}
