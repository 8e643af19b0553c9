package evaluator_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The decision path and what serves it carry no parser: a sidecar or an
// embedded provider that reads bundles must not link CUE, go-git or the
// YAML library. Only the repo source (evaluator/source/repo) may. Nor does
// it carry a usage store driver: the stores (evaluator/usage/bolt, redis)
// are wired in by the binary and the Go usage client.
func TestDecisionPathImportsNoParser(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	banned := []string{"cuelang.org/", "github.com/go-git/", "github.com/goccy/", "go.etcd.io/bbolt", "github.com/valkey-io/"}
	for _, pkg := range []string{
		"github.com/promoctl/promoctl/promotions",
		"github.com/promoctl/promoctl/compiler/snapshot",
		"github.com/promoctl/promoctl/compiler/bundle",
		"github.com/promoctl/promoctl/evaluator",
		"github.com/promoctl/promoctl/evaluator/ofrep",
		"github.com/promoctl/promoctl/evaluator/usage",
		"github.com/promoctl/promoctl/evaluator/store",
		"github.com/promoctl/promoctl/evaluator/server",
		"github.com/promoctl/promoctl/evaluator/source/bundle",
	} {
		t.Run(pkg, func(t *testing.T) {
			out, err := exec.Command(goBin, "list", "-deps", pkg).Output()
			require.NoError(t, err)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, pkg, "the listing is of the package's graph")
			for _, dep := range deps {
				for _, b := range banned {
					assert.False(t, strings.HasPrefix(dep, b), "%s imports %s", pkg, dep)
				}
			}
		})
	}
}
