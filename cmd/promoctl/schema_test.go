package main

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/schema"
)

const scaffoldSchema = "scaffold/.promoctl/schema.json"

// The JSON Schema that init writes is generated from the CUE definitions;
// rewrite it with go test -update after a schema change.
func TestScaffoldSchemaIsGenerated(t *testing.T) {
	want, err := schema.JSONSchema()
	require.NoError(t, err)
	var decoded map[string]any
	require.NoError(t, json.Unmarshal(want, &decoded))
	assert.Equal(t, "https://json-schema.org/draft/2020-12/schema", decoded["$schema"])
	assert.Contains(t, decoded["$defs"], "PromotionalEntitlement")

	if *update {
		require.NoError(t, os.WriteFile(scaffoldSchema, want, 0o644))
	}
	got, err := os.ReadFile(scaffoldSchema)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got), "run go test ./cmd/promoctl -update")
}

// Every scaffolded config file starts with a modeline naming the schema
// by a path that exists in the scaffolded repo.
func TestScaffoldModelines(t *testing.T) {
	root, err := fs.Sub(scaffold, "scaffold")
	require.NoError(t, err)
	n := 0
	err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(p, ".") || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		n++
		f, err := root.Open(p)
		require.NoError(t, err)
		defer f.Close()
		first, _ := bufio.NewReader(f).ReadString('\n')
		target, ok := strings.CutPrefix(strings.TrimSpace(first), "# yaml-language-server: $schema=")
		require.True(t, ok, "%s: first line %q is not a yaml-language-server modeline", p, first)
		_, err = fs.Stat(root, path.Join(path.Dir(p), target))
		assert.NoError(t, err, "%s: schema %s", p, target)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, 5, n)
}

func TestSchemaExportCUE(t *testing.T) {
	var out strings.Builder
	require.NoError(t, writeCUESources(&out))
	for name, src := range schema.Sources() {
		assert.Contains(t, out.String(), "// "+name+"\n"+src)
	}
}
