package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/internal/fsutil"
)

// readsRepoAnnotation marks the commands that read a config repo: they
// take --repo and the limit flags, and find the repo from the current
// directory when --repo is not given.
const readsRepoAnnotation = "promoctl/reads-repo"

// limitFlagAnnotation groups the limit flags in their own help section.
const limitFlagAnnotation = "promoctl/limit"

// readsRepo adds --repo and the limit flags to cmd. The limits bound what a
// load accepts; every command that loads the repo takes them, so validate
// and the editing commands accept exactly the same files.
func (a *app) readsRepo(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[readsRepoAnnotation] = "true"
	cmd.Flags().StringVar(&a.repo, "repo", "", "config repo directory (default: the nearest directory upwards holding .promoctl/, else the current one)")
	addLimitFlags(cmd.Flags(), &a.limits)
	return cmd
}

// resolveRepo applies repo discovery when --repo was not given: the
// nearest directory, from the current one upwards, that holds .promoctl/
// (which init creates), else the current directory.
func (a *app) resolveRepo(cmd *cobra.Command) error {
	if cmd.Annotations[readsRepoAnnotation] == "" {
		return nil
	}
	if f := cmd.Flags().Lookup("repo"); f != nil && f.Changed {
		return nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return usageError("current directory: %w", err)
	}
	root, ok := findRepoRoot(wd)
	if !ok {
		a.repo = "."
		return nil
	}
	if rel, err := filepath.Rel(wd, root); err == nil {
		a.repo = rel
	} else {
		a.repo = root
	}
	return nil
}

// findRepoRoot walks from dir up to the file-system root and returns the
// first directory holding a .promoctl directory.
func findRepoRoot(dir string) (string, bool) {
	for {
		info, err := os.Stat(filepath.Join(dir, fsutil.LockDir))
		if err == nil && info.IsDir() {
			return dir, true
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) {
			return "", false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// repoName names the repo directory in messages: its absolute path, since
// "." or "../.." says little once the repo was found by discovery.
func (a *app) repoName() string {
	if abs, err := filepath.Abs(a.repo); err == nil {
		return abs
	}
	return a.repo
}
