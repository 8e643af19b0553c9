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
// in CI usually means a shallow checkout. Its message says how to get the
// base, from what the repository has: its remotes, and whether it is
// shallow.
type BaseNotFoundError struct {
	Rev     string
	Err     error
	Remotes []string // names of the repository's remotes
	Shallow bool     // the clone's history is cut (git clone --depth)
}

func (e *BaseNotFoundError) Error() string {
	head := fmt.Sprintf("base revision %q is not in this clone (%v)", e.Rev, e.Err)
	const actions = "; in GitHub Actions check out with actions/checkout and fetch-depth: 0"
	if strings.ContainsAny(e.Rev, "~^@:") {
		// Relative to another revision (HEAD~1): only more history helps.
		if e.Shallow && len(e.Remotes) > 0 {
			return head + `: the clone is shallow; fetch the history with "git fetch --unshallow"` + actions
		}
		return head + ": the history has no such commit; name one that exists (git log --oneline)"
	}
	if len(e.Remotes) == 0 {
		return head + ": this repository has no remote to fetch it from; name a branch, tag or commit it has " +
			"(git branch -a, git tag), or compare with a directory (--base-dir)"
	}
	remote, branch := e.Remotes[0], e.Rev
	if r, b, ok := strings.Cut(e.Rev, "/"); ok && slices.Contains(e.Remotes, r) {
		remote, branch = r, b
	}
	return fmt.Sprintf(`%s: fetch it with "git fetch %s %s:refs/remotes/%s/%s" and pass --base %s/%s%s`,
		head, remote, branch, remote, branch, remote, branch, actions)
}

func (e *BaseNotFoundError) Unwrap() error { return e.Err }

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
		return nil, fmt.Errorf("open git repository at %s: %w (use --base-dir to compare against a directory)", dir, err)
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
