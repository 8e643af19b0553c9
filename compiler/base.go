package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/promoctl/promoctl/internal/treefs"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// BaseRevision is the config repo as it was at a git revision.
type BaseRevision struct {
	FS     fs.FS  // the revision's tree, rooted at the config repo
	Rev    string // as given (origin/main, HEAD~1, a tag, a sha)
	Commit string // the commit it resolved to
}

// BaseNotFoundError says that a base revision is not in the clone, which
// in CI usually means a shallow checkout. It carries what the repository
// has — its remotes, and whether it is shallow — for the caller to say how
// to get the base in its own terms (cmd/promoctl names the git commands
// and its flags).
type BaseNotFoundError struct {
	Rev     string
	Err     error
	Remotes []string // names of the repository's remotes, origin first
	Shallow bool     // the clone's history is cut (git clone --depth)
}

func (e *BaseNotFoundError) Error() string {
	return fmt.Sprintf("base revision %q is not in this clone (%v)", e.Rev, e.Err)
}

// Relative reports whether the revision is relative to another one
// (HEAD~1, main^, @{1}): only more history can bring it.
func (e *BaseNotFoundError) Relative() bool { return strings.ContainsAny(e.Rev, "~^@:") }

// Fetch names what to fetch for a revision that is not relative: the
// remote (the one the revision names, else the first) and the branch.
// ok is false without any remote.
func (e *BaseNotFoundError) Fetch() (remote, branch string, ok bool) {
	if len(e.Remotes) == 0 {
		return "", "", false
	}
	remote, branch = e.Remotes[0], e.Rev
	if r, b, found := strings.Cut(e.Rev, "/"); found && slices.Contains(e.Remotes, r) {
		remote, branch = r, b
	}
	return remote, branch, true
}

func (e *BaseNotFoundError) Unwrap() error { return e.Err }

// NoRepositoryError says that dir is in no git repository, so no revision
// of it can be read.
type NoRepositoryError struct {
	Dir string
	Err error
}

func (e *NoRepositoryError) Error() string {
	return fmt.Sprintf("open git repository at %s: %v", e.Dir, e.Err)
}

func (e *NoRepositoryError) Unwrap() error { return e.Err }

// OpenRevision reads the config repo at dir as it was at rev. dir may be
// anywhere inside a git worktree (the config repo may be a sub-directory
// of a larger repository) or a bare repository; no git binary is needed.
// A config directory that did not exist at rev reads as an empty tree:
// everything in the head is then new.
func OpenRevision(dir, rev string) (*BaseRevision, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		// Detection looks for a .git directory; a bare repository is one.
		repo, err = git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
	}
	if err != nil {
		return nil, &NoRepositoryError{Dir: dir, Err: err}
	}
	sub, err := treefs.WorktreeSubPath(repo, dir)
	if err != nil {
		return nil, err
	}
	hash, err := repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return nil, baseNotFound(repo, rev, err)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return nil, baseNotFound(repo, rev, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, baseNotFound(repo, rev, fmt.Errorf("read tree of %s: %w", hash, err))
	}
	g := treefs.NewGit(repo.Storer, tree.Hash, commit.Committer.When)
	if sub != "" {
		if g, err = g.Dir(sub); err != nil {
			return nil, fmt.Errorf("read %s at %s: %w", sub, rev, err)
		}
	}
	return &BaseRevision{FS: g, Rev: rev, Commit: hash.String()}, nil
}

// baseNotFound describes a missing base with what the repository could
// fetch it from.
func baseNotFound(repo *git.Repository, rev string, err error) *BaseNotFoundError {
	e := &BaseNotFoundError{Rev: rev, Err: err}
	if remotes, rerr := repo.Remotes(); rerr == nil {
		for _, r := range remotes {
			e.Remotes = append(e.Remotes, r.Config().Name)
		}
		sort.Strings(e.Remotes)
		// origin first: it is the one CI clones from.
		if i := slices.Index(e.Remotes, "origin"); i > 0 {
			e.Remotes[0], e.Remotes[i] = e.Remotes[i], e.Remotes[0]
		}
	}
	if shallow, serr := repo.Storer.Shallow(); serr == nil {
		e.Shallow = len(shallow) > 0
	}
	return e
}

// WorktreePrefix is dir's path inside its git worktree with a trailing
// slash ("config/"): what turns a file relative to the config repo into one
// relative to the git repository, as code-scanning tools expect. It is ""
// at the worktree root and outside git.
func WorktreePrefix(dir string) string {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return ""
	}
	sub, err := treefs.WorktreeSubPath(repo, dir)
	if err != nil || sub == "" {
		return ""
	}
	return sub + "/"
}
