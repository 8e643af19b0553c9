package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promoctl/promoctl/compiler"
)

// revision names the content a snapshot was built from.
//
// The decision revision (and so the ETag) must change whenever the content
// does, and should be the git commit when there is one. Both hold with this
// rule: the revision is HEAD's commit only when the config files on disk are
// exactly those of HEAD's tree (same paths, same bytes); with uncommitted
// edits or untracked config files it is the content hash. Two commits with
// equal config files give two revisions (a spurious ETag change, harmless);
// two different contents never share one.
type revision struct {
	Revision    string
	Commit      string
	Dirty       bool
	ContentHash string
	// CommitTime is HEAD's commit time (zero without a commit).
	CommitTime time.Time
}

// Revision names a repo's content the way the sidecar does: the exported
// form of what a loader resolves, for commands that label what they build.
type Revision = revision

// ResolveRevision names the content of the repo at root whose content hash
// (compiler.Result.ContentHash) is contentHash: HEAD's commit when the config
// files equal HEAD's, else the content hash.
func ResolveRevision(root, contentHash string, log *slog.Logger) Revision {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var g gitRevision
	return g.resolve(root, contentHash, log)
}

// gitRevision finds HEAD for a repo directory and remembers the content
// hash of HEAD's config files, so the comparison costs one hash of HEAD's
// tree per new commit, not per reload.
type gitRevision struct {
	commit, subdir, headHash string
	commitTime               time.Time
}

func (g *gitRevision) resolve(root, contentHash string, log *slog.Logger) revision {
	rev := revision{Revision: contentHash, ContentHash: contentHash}
	commit, headHash, err := g.head(root)
	if err != nil {
		if !errors.Is(err, git.ErrRepositoryNotExists) {
			log.Debug("git HEAD unavailable; using the content hash", slog.String("error", err.Error()))
		}
		return rev
	}
	rev.Commit = commit
	rev.CommitTime = g.commitTime
	rev.Dirty = headHash != contentHash
	if !rev.Dirty {
		rev.Revision = commit
	}
	return rev
}

// head returns HEAD's commit and the content hash of its config files under
// root's path inside the worktree.
func (g *gitRevision) head(root string) (commit, headHash string, err error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", "", fmt.Errorf("resolve %s: %w", root, err)
	}
	realRoot, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", "", fmt.Errorf("resolve %s: %w", root, err)
	}
	repo, err := git.PlainOpenWithOptions(realRoot, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return "", "", err
	}
	wt, err := repo.Worktree()
	if err != nil {
		return "", "", fmt.Errorf("worktree: %w", err)
	}
	top, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return "", "", fmt.Errorf("resolve worktree: %w", err)
	}
	rel, err := filepath.Rel(top, realRoot)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", "", fmt.Errorf("%s is outside its worktree %s", realRoot, top)
	}
	subdir := filepath.ToSlash(rel)
	ref, err := repo.Head()
	if err != nil {
		return "", "", fmt.Errorf("HEAD: %w", err)
	}
	commit = ref.Hash().String()
	if commit == g.commit && subdir == g.subdir {
		return commit, g.headHash, nil
	}
	c, err := repo.CommitObject(ref.Hash())
	if err != nil {
		return "", "", fmt.Errorf("commit %s: %w", commit, err)
	}
	g.commitTime = c.Committer.When.UTC()
	tree, err := c.Tree()
	if err != nil {
		return "", "", fmt.Errorf("tree of %s: %w", commit, err)
	}
	if subdir != "." {
		if tree, err = tree.Tree(subdir); err != nil {
			// The directory is not in HEAD at all: every file is untracked.
			g.commit, g.subdir, g.headHash = commit, subdir, ""
			return commit, "", nil
		}
	}
	headHash, err = treeContentHash(tree)
	if err != nil {
		return "", "", fmt.Errorf("hash %s:%s: %w", commit, subdir, err)
	}
	g.commit, g.subdir, g.headHash = commit, subdir, headHash
	return commit, headHash, nil
}

// treeContentHash computes compiler.Result.ContentHash for a git tree: the
// same files (config files outside dot directories) hashed the same way
// (a test pins the two together).
func treeContentHash(tree *object.Tree) (string, error) {
	type entry struct {
		name string
		sum  [sha256.Size]byte
	}
	var entries []entry
	err := tree.Files().ForEach(func(f *object.File) error {
		if !isConfigPath(f.Name) {
			return nil
		}
		if f.Mode == filemode.Symlink {
			// On disk the loader reads the link's target; a link's blob is
			// only its target's name. Never equal: report the tree dirty.
			return errSymlink
		}
		r, err := f.Reader()
		if err != nil {
			return err
		}
		defer r.Close()
		h := sha256.New()
		if _, err := io.Copy(h, r); err != nil {
			return err
		}
		var e entry
		e.name = f.Name
		h.Sum(e.sum[:0])
		entries = append(entries, e)
		return nil
	})
	if errors.Is(err, errSymlink) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	h := sha256.New()
	for _, e := range entries {
		h.Write([]byte(e.name))
		h.Write([]byte{0})
		h.Write(e.sum[:])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

var errSymlink = errors.New("symlinked config file")

// isConfigPath mirrors compiler.ConfigFiles: YAML files, no path element
// starting with a dot.
func isConfigPath(p string) bool {
	for _, part := range strings.Split(p, "/") {
		if strings.HasPrefix(part, ".") {
			return false
		}
	}
	return compiler.IsConfigFile(path.Base(p))
}
