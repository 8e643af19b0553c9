package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/promoctl/promoctl"

// floors ranks the module's top-level folders from the ground up: a
// package may depend on its own folder and on any folder on a lower floor,
// never on one on its floor or above, not even through a helper under
// internal/ (helpers serve every floor, so internal/ has none). The apply
// flow (promotions/) receives the compiler through an interface instead of
// importing it; the binary ships nothing from bench/.
var floors = map[string]int{
	"promotions":  1,
	"schema":      2,
	"compiler":    3,
	"evaluator":   4,
	"openfeature": 5,
	"console":     5,
	"cmd":         6,
	"bench":       7,
	"examples":    7,
}

// topFolder is the module folder a package of the module stands in.
func topFolder(pkg string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	folder, _, _ := strings.Cut(rest, "/")
	return folder
}

// goList runs go list with args and returns its lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, append([]string{"list"}, args...)...).Output()
	require.NoError(t, err)
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func TestNoImportRunsUpTheStack(t *testing.T) {
	lines := goList(t, "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}", module+"/...")
	require.Greater(t, len(lines), 20, "the listing is of the whole module")
	for _, line := range lines {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		from := topFolder(pkg)
		if from == "internal" {
			continue
		}
		fromFloor, ok := floors[from]
		require.True(t, ok, "%s stands in folder %q, which has no floor: give it one", pkg, from)
		for _, dep := range deps {
			if !strings.HasPrefix(dep, module+"/") {
				continue
			}
			to := topFolder(dep)
			if to == from || to == "internal" {
				continue
			}
			assert.Greater(t, fromFloor, floors[to], "%s depends on %s: %s/ may not depend on %s/", pkg, dep, from, to)
		}
	}
}

func TestBinaryImportsNothingUnderBench(t *testing.T) {
	deps := goList(t, "-deps", ".")
	require.Contains(t, deps, module+"/cmd/promoctl", "the listing is of the binary's graph")
	require.Contains(t, deps, module+"/compiler", "the listing is of the binary's graph")
	for _, dep := range deps {
		assert.False(t, strings.HasPrefix(dep, module+"/bench/"), "the binary imports %s", dep)
	}
}
