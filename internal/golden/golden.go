// Package golden compares test output with files under testdata/ and
// rewrites them when the tests run with -update, so that every package's
// golden files are refreshed the same way.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The flag is looked up rather than owned: a test binary declares it once,
// whichever package declares it first.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

// Updating reports whether the tests run with -update.
func Updating() bool {
	g, ok := flag.Lookup("update").Value.(flag.Getter)
	if !ok {
		return false
	}
	on, _ := g.Get().(bool)
	return on
}

// Assert compares got with testdata/<name>, or rewrites the file with
// -update.
func Assert(t testing.TB, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", filepath.FromSlash(name))
	if Updating() {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755)) // #nosec G301 -- the package's testdata, as readable as the rest of the checkout
		require.NoError(t, os.WriteFile(p, []byte(got), 0o644)) // #nosec G306 -- a golden file, committed like any source file
		return
	}
	want, err := os.ReadFile(p) // #nosec G304 -- a golden file the test names, under testdata
	require.NoError(t, err, "run go test -update to create it")
	assert.Equal(t, string(want), got)
}
