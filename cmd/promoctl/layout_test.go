package main

import (
	"io/fs"
	"os"
	"path/filepath"
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

// The repo speaks of promoctl alone: no code or document cites sections of
// the specification it was built from; they cite the project's own docs.
func TestNothingCitesSpecSections(t *testing.T) {
	cite := "SPEC " + "§" // spelled apart so that this file does not cite
	root := "../.."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "bin", ".bench":
				return filepath.SkipDir
			}
			return nil
		}
		if info, err := d.Info(); err != nil || !info.Mode().IsRegular() || info.Size() > 1<<20 {
			return err
		}
		data, err := os.ReadFile(path) // #nosec G304 -- a file of this checkout
		if err != nil {
			return err
		}
		assert.NotContains(t, string(data), cite, "%s cites a section of the specification", path)
		return nil
	})
	require.NoError(t, err)
}
