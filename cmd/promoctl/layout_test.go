package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The README's Layout section names every package of the module, so that
// a newcomer finds each one's job there.
func TestReadmeLayoutNamesEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, section, found := strings.Cut(string(readme), "\n## Layout\n")
	require.True(t, found, "README.md has a Layout section")
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	pkgs := goList(t, module+"/...")
	require.Greater(t, len(pkgs), 20)
	for _, pkg := range pkgs {
		rel := strings.TrimPrefix(pkg, module+"/")
		assert.Contains(t, section, "`"+rel+"`", "README.md's Layout section does not name %s", rel)
	}
}

// Every package says what it is for in a package comment (doc.go).
func TestEveryPackageHasADocComment(t *testing.T) {
	for _, line := range goList(t, "-f", "{{.ImportPath}}|{{.Doc}}", module+"/...") {
		pkg, doc, _ := strings.Cut(line, "|")
		assert.NotEmpty(t, strings.TrimSpace(doc), "%s has no package comment", pkg)
	}
}
