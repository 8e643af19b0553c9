package main

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"

	"github.com/spf13/cobra"
)

//go:embed all:scaffold
var scaffold embed.FS

// workflowFile is the scaffold's CI workflow, which pins the promoctl
// release it installs.
const workflowFile = ".github/workflows/promoctl.yml"

// scaffoldVersion is the release the scaffold's workflow names.
const scaffoldVersion = "PROMOCTL_VERSION: v0.1.0"

// release matches a release version as `go install …@vX.Y.Z` records it;
// not a pseudo-version, nor a git describe of a work tree.
var release = regexp.MustCompile(`^v\d+\.\d+\.\d+(-(alpha|beta|rc)(\.?\d+)*)?$`)

// pinVersion makes the workflow install the release that ran init; a
// development build keeps the scaffold's.
func pinVersion(workflow []byte, version string) []byte {
	if !release.MatchString(version) {
		return workflow
	}
	return bytes.Replace(workflow, []byte(scaffoldVersion), []byte("PROMOCTL_VERSION: "+version), 1)
}

func (a *app) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init DIR",
		Short: "Scaffold a config repo: a feature, a plan, a customer file, a promotion and a CI workflow",
		Example: `  promoctl init acme-config
  cd acme-config && git init && promoctl validate`,
		Args: exactArgs(arg{"DIR", "the directory to create the config repo in"}),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			root, err := fs.Sub(scaffold, "scaffold")
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			// Check every destination first: init writes all files or none.
			var files []string
			err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(p))); err == nil {
					return fmt.Errorf("%s already exists; init does not overwrite", filepath.Join(dir, filepath.FromSlash(p)))
				}
				files = append(files, p)
				return nil
			})
			if err != nil {
				return usageError("init %s: %w", dir, err)
			}
			var written []string
			for _, p := range files {
				dst := filepath.Join(dir, filepath.FromSlash(p))
				data, err := fs.ReadFile(root, p)
				if p == workflowFile {
					data = pinVersion(data, currentBuild().Version)
				}
				if err == nil {
					err = os.MkdirAll(filepath.Dir(dst), 0o755) // #nosec G301 -- a config repo for git and CI: world-readable like any checkout
				}
				if err == nil {
					err = os.WriteFile(dst, data, 0o644) // #nosec G306 -- a config repo for git and CI: world-readable like any checkout
				}
				if err != nil {
					return usageError("init %s: %w", dir, err)
				}
				written = append(written, p)
			}
			for _, p := range written {
				fmt.Fprintf(a.stdout, "created %s\n", filepath.Join(dir, filepath.FromSlash(p)))
			}
			fmt.Fprintf(a.stdout, "next: promoctl validate --repo %s\n", dir)
			return nil
		},
	}
}
