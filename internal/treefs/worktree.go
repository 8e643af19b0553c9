package treefs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
)

// WorktreeSubPath is dir relative to the work tree root of repo, with "/";
// "" for the root itself and for a bare repository. Symlinks are resolved
// on both sides, so a config repo reached through a link still lands on
// its path inside the work tree.
func WorktreeSubPath(repo *git.Repository, dir string) (string, error) {
	wt, err := repo.Worktree()
	if errors.Is(err, git.ErrIsBareRepository) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("open worktree of %s: %w", dir, err)
	}
	root, err := realPath(wt.Filesystem.Root())
	if err != nil {
		return "", err
	}
	abs, err := realPath(dir)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is not inside the git worktree %s", dir, root)
	}
	if rel == "." {
		return "", nil
	}
	return filepath.ToSlash(rel), nil
}

func realPath(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", p, err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		return real, nil
	}
	return abs, nil
}
