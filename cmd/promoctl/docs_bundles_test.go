package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocsBundlesCommandsAreTested: every promoctl command shown with its
// output in docs/bundles.md runs in testdata/script/docs_bundles.txtar,
// which checks that output.
func TestDocsBundlesCommandsAreTested(t *testing.T) {
	doc, err := os.ReadFile("../../docs/bundles.md")
	require.NoError(t, err)
	script, err := os.ReadFile("testdata/script/docs_bundles.txtar")
	require.NoError(t, err)
	var commands []string
	for _, line := range strings.Split(string(script), "\n") {
		line = strings.TrimPrefix(line, "exec ")
		if strings.HasPrefix(line, "exitcode ") {
			line = strings.SplitN(line, " ", 3)[2]
		}
		if strings.HasPrefix(line, "promoctl ") {
			commands = append(commands, line)
		}
	}
	n := 0
	for _, line := range strings.Split(string(doc), "\n") {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok && strings.HasPrefix(cmd, "promoctl ") {
			n++
			assert.Contains(t, commands, cmd, "docs/bundles.md shows a command the script does not run")
		}
	}
	assert.Positive(t, n)
}
