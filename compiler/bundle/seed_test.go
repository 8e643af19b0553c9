package bundle_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/bundle"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the committed FuzzDecode seed corpus")

// TestWriteSeeds writes the committed seed corpus of FuzzDecode (with
// -write-seeds): the example repo's bundle, signed and unsigned, and cuts
// of it, so that the fuzzer starts from real bundles.
func TestWriteSeeds(t *testing.T) {
	if !*writeSeeds {
		t.Skip("run with -write-seeds to rewrite testdata/fuzz/FuzzDecode")
	}
	priv, _ := newKey(t)
	m := loadModel(t, acme)
	unsigned, err := bundle.Encode(m, testHeader(), nil)
	require.NoError(t, err)
	signed, err := bundle.Encode(m, testHeader(), priv)
	require.NoError(t, err)
	seeds := map[string][]byte{
		"unsigned": unsigned, "signed": signed,
		"header-only": unsigned[:60], "half": unsigned[:len(unsigned)/2], "empty": nil,
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, data := range seeds {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)), 0o644))
	}
}
