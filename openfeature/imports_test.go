package openfeature_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bannedImports are the parsers and git.
var bannedImports = []string{"cuelang.org/", "github.com/go-git/", "github.com/goccy/"}

// A service that embeds the provider and reads bundles carries no parser:
// the package must not import CUE, go-git or the YAML library. Only
// reposource may.
func TestProviderImportsNoParser(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/promoctl/promoctl/openfeature").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/open-feature/go-sdk/openfeature", "the listing is of the provider's graph")
	for _, dep := range deps {
		for _, banned := range bannedImports {
			assert.False(t, strings.HasPrefix(dep, banned), "openfeature imports %s", dep)
		}
	}
}
