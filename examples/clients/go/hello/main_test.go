package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/examples/clients/go/internal/clienttest"
)

const root = "../../../.."

func TestHelloReadsABundle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.bundle")
	require.NoError(t, os.WriteFile(path, clienttest.Bundle(t, clienttest.AcmeCopy(t, root)), 0o644))
	var out bytes.Buffer
	require.NoError(t, run([]string{path, "cus_005"}, &out))
	assert.Equal(t, "cus_005 may use sso: true\n", out.String())
}

func TestHelloWithoutABundleFails(t *testing.T) {
	err := run([]string{filepath.Join(t.TempDir(), "missing.bundle"), "cus_005"}, &bytes.Buffer{})
	assert.ErrorContains(t, err, "missing.bundle")
}

// The service that reads bundles carries no parser and no git.
func TestHelloImportsNoParser(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/promoctl/promoctl/openfeature")
	for _, dep := range deps {
		for _, banned := range []string{"cuelang.org/", "github.com/go-git/", "github.com/goccy/"} {
			assert.False(t, strings.HasPrefix(dep, banned), "hello imports %s", dep)
		}
	}
}
