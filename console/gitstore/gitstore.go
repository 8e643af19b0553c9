package gitstore

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-billy/v5"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/promoctl/promoctl/compiler"
)

// BranchPrefix starts the name of every branch the console makes.
const BranchPrefix = "promoctl/"

// ErrStale says that a branch moved, or a file changed on it, since the
// caller read it: nothing was committed.
var ErrStale = errors.New("changed since it was read")

// ErrCheckedOut says that a branch is checked out in a work tree of the
// repository: moving it would leave that work tree's index and files at
// the old commit, and the next commit made there would undo the change.
// Nothing was committed.
var ErrCheckedOut = errors.New("checked out in a work tree")

// Repo is the git repository holding a config repo. The config repo may be
// a sub-directory of the repository (Prefix); every path this package takes
// and returns is relative to the config repo.
type Repo struct {
	dir    string
	git    *git.Repository
	prefix string // the config repo inside the work tree, "" or "sub/dir/"
	// mu serialises commits and ref moves made through this value.
	mu sync.Mutex
}

// Open opens the git repository that holds the config repo at dir (dir may
// be the work tree's root or a directory inside it).
func Open(dir string) (*Repo, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open git repository at %s: %w", dir, err)
	}
	return &Repo{dir: dir, git: repo, prefix: compiler.WorktreePrefix(dir)}, nil
}

// Git is the underlying repository, for history and tests.
func (r *Repo) Git() *git.Repository { return r.git }

// Prefix is the config repo's directory inside the work tree ("" at the root).
func (r *Repo) Prefix() string { return r.prefix }

// CurrentBranch is the branch the checkout has checked out.
func (r *Repo) CurrentBranch() (string, error) {
	head, err := r.git.Head()
	if err != nil {
		return "", fmt.Errorf("read HEAD: %w", err)
	}
	if !head.Name().IsBranch() {
		return "", &DetachedHeadError{Commit: head.Hash()}
	}
	return head.Name().Short(), nil
}

// DetachedHeadError is a checkout with no branch checked out: there is no
// base branch to read and branch from unless the caller names one.
type DetachedHeadError struct {
	Commit plumbing.Hash
}

func (e *DetachedHeadError) Error() string {
	return fmt.Sprintf("HEAD is detached at %s: name the base branch", e.Commit)
}

// Tip is the commit a local branch points at.
func (r *Repo) Tip(branch string) (plumbing.Hash, error) {
	ref, err := r.git.Reference(plumbing.NewBranchReferenceName(branch), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("branch %s: %w", branch, err)
	}
	return ref.Hash(), nil
}

// RemoteTip is the commit of a remote-tracking branch (after Fetch).
func (r *Repo) RemoteTip(remote, branch string) (plumbing.Hash, error) {
	ref, err := r.git.Reference(plumbing.NewRemoteReferenceName(remote, branch), true)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("remote branch %s/%s: %w", remote, branch, err)
	}
	return ref.Hash(), nil
}

// FS is the config repo as it is in commit.
func (r *Repo) FS(commit plumbing.Hash) (fs.FS, error) {
	rev, err := compiler.OpenRevision(r.dir, commit.String())
	if err != nil {
		return nil, err
	}
	return rev.FS, nil
}

// BlobHash is the hash of file's content in commit, "" when the file does
// not exist there. Forms carry it so that a write can tell whether the
// file changed since the form was rendered.
func (r *Repo) BlobHash(commit plumbing.Hash, file string) (string, error) {
	c, err := r.git.CommitObject(commit)
	if err != nil {
		return "", fmt.Errorf("read commit %s: %w", commit, err)
	}
	tree, err := c.Tree()
	if err != nil {
		return "", fmt.Errorf("read tree of %s: %w", commit, err)
	}
	entry, err := tree.FindEntry(r.prefix + file)
	if errors.Is(err, object.ErrEntryNotFound) || errors.Is(err, object.ErrDirectoryNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("find %s in %s: %w", file, commit, err)
	}
	return entry.Hash.String(), nil
}

// Signature is a commit's author.
type Signature struct {
	Name, Email string
}

// String renders it as git does: "Name <email>".
func (s Signature) String() string { return fmt.Sprintf("%s <%s>", s.Name, s.Email) }

// ParseSignature reads "Name <email>".
func ParseSignature(s string) (Signature, error) {
	name, rest, ok := strings.Cut(s, "<")
	email, tail, closed := strings.Cut(rest, ">")
	name, email = strings.TrimSpace(name), strings.TrimSpace(email)
	if !ok || !closed || strings.TrimSpace(tail) != "" || name == "" || email == "" || strings.ContainsAny(name+email, "<>\n") {
		return Signature{}, fmt.Errorf("author %q: expected \"Name <email>\"", s)
	}
	return Signature{Name: name, Email: email}, nil
}

// Commit is one commit to make.
type Commit struct {
	// Branch is the branch to move. It must not be the base branch; the
	// caller decides which branches are its own.
	Branch string
	// Parent is the commit to build on. When the branch exists it must
	// point at Parent (else ErrStale); when it does not, it is created.
	Parent plumbing.Hash
	// Files are the new contents, by path relative to the config repo.
	Files   map[string][]byte
	Author  Signature
	Message string
	When    time.Time
}

// Commit writes the changed blobs, the trees above them and a commit on
// top of c.Parent, then points c.Branch at it — only if the branch still
// points at c.Parent (or does not exist yet). Nothing outside the object
// store and that one ref is written.
func (r *Repo) Commit(c Commit) (plumbing.Hash, error) {
	if len(c.Files) == 0 {
		return plumbing.ZeroHash, errors.New("commit: no file changed")
	}
	if c.Branch == "" {
		return plumbing.ZeroHash, errors.New("commit: no branch")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	name := plumbing.NewBranchReferenceName(c.Branch)
	if err := name.Validate(); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("branch %q: %w", c.Branch, err)
	}
	if where, ok := r.checkedOut(name); ok {
		return plumbing.ZeroHash, fmt.Errorf("branch %s is checked out in the work tree %s; the console does not move it (commit there with git, or choose a new branch): %w",
			c.Branch, where, ErrCheckedOut)
	}
	old, err := r.git.Storer.Reference(name)
	switch {
	case errors.Is(err, plumbing.ErrReferenceNotFound):
		old = nil
	case err != nil:
		return plumbing.ZeroHash, fmt.Errorf("read branch %s: %w", c.Branch, err)
	case old.Hash() != c.Parent:
		return plumbing.ZeroHash, fmt.Errorf("branch %s is at %s, not %s: %w", c.Branch, short(old.Hash()), short(c.Parent), ErrStale)
	}
	parent, err := r.git.CommitObject(c.Parent)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", c.Parent, err)
	}
	files := make(map[string][]byte, len(c.Files))
	for p, data := range c.Files {
		clean := path.Clean(p)
		if !fs.ValidPath(clean) || clean == "." {
			return plumbing.ZeroHash, fmt.Errorf("commit: invalid path %q", p)
		}
		files[r.prefix+clean] = data
	}
	tree, err := r.writeTree(parent.TreeHash, "", files)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	when := c.When
	if when.IsZero() {
		when = time.Now()
	}
	sig := object.Signature{Name: c.Author.Name, Email: c.Author.Email, When: when}
	commit := &object.Commit{Author: sig, Committer: sig, Message: c.Message, TreeHash: tree, ParentHashes: []plumbing.Hash{c.Parent}}
	obj := r.git.Storer.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode commit: %w", err)
	}
	hash, err := r.git.Storer.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write commit: %w", err)
	}
	if err := r.git.Storer.CheckAndSetReference(plumbing.NewHashReference(name, hash), old); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("move branch %s: %w (%w)", c.Branch, err, ErrStale)
	}
	return hash, nil
}

// checkedOut reports whether a work tree of the repository has branch
// checked out, and which: the main work tree (its HEAD) or a linked one
// (git worktree add; its HEAD under worktrees/).
func (r *Repo) checkedOut(branch plumbing.ReferenceName) (string, bool) {
	if head, err := r.git.Storer.Reference(plumbing.HEAD); err == nil &&
		head.Type() == plumbing.SymbolicReference && head.Target() == branch {
		return r.Dir(), true
	}
	dotGit, ok := r.git.Storer.(interface{ Filesystem() billy.Filesystem })
	if !ok {
		return "", false
	}
	fsys := dotGit.Filesystem()
	linked, err := fsys.ReadDir("worktrees")
	if err != nil {
		return "", false
	}
	for _, wt := range linked {
		f, err := fsys.Open(fsys.Join("worktrees", wt.Name(), "HEAD"))
		if err != nil {
			continue
		}
		head, err := io.ReadAll(io.LimitReader(f, 4096))
		_ = f.Close()
		if err == nil && strings.TrimSpace(string(head)) == "ref: "+branch.String() {
			return wt.Name() + " (a linked work tree)", true
		}
	}
	return "", false
}

// writeTree writes the tree that is base (a tree hash, ZeroHash for none)
// with files (paths relative to dir) replaced or added, and returns its
// hash. Only the trees on the way to a changed file are rewritten.
func (r *Repo) writeTree(base plumbing.Hash, dir string, files map[string][]byte) (plumbing.Hash, error) {
	entries := map[string]object.TreeEntry{}
	if !base.IsZero() {
		t, err := r.git.TreeObject(base)
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", dir, err)
		}
		for _, e := range t.Entries {
			entries[e.Name] = e
		}
	}
	sub := map[string]map[string][]byte{}
	for p, data := range files {
		first, rest, nested := strings.Cut(p, "/")
		if !nested {
			hash, err := r.writeBlob(data)
			if err != nil {
				return plumbing.ZeroHash, fmt.Errorf("write %s: %w", dir+p, err)
			}
			mode := filemode.Regular
			if e, ok := entries[first]; ok && e.Mode == filemode.Executable {
				mode = e.Mode
			}
			entries[first] = object.TreeEntry{Name: first, Mode: mode, Hash: hash}
			continue
		}
		if sub[first] == nil {
			sub[first] = map[string][]byte{}
		}
		sub[first][rest] = data
	}
	for name, children := range sub {
		var childBase plumbing.Hash
		if e, ok := entries[name]; ok {
			if e.Mode != filemode.Dir {
				return plumbing.ZeroHash, fmt.Errorf("write %s%s/: a file of that name exists", dir, name)
			}
			childBase = e.Hash
		}
		hash, err := r.writeTree(childBase, dir+name+"/", children)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		entries[name] = object.TreeEntry{Name: name, Mode: filemode.Dir, Hash: hash}
	}
	tree := &object.Tree{Entries: make([]object.TreeEntry, 0, len(entries))}
	for _, e := range entries {
		tree.Entries = append(tree.Entries, e)
	}
	sort.Sort(object.TreeEntrySorter(tree.Entries))
	obj := r.git.Storer.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		return plumbing.ZeroHash, fmt.Errorf("encode tree %s: %w", dir, err)
	}
	hash, err := r.git.Storer.SetEncodedObject(obj)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("write tree %s: %w", dir, err)
	}
	return hash, nil
}

func (r *Repo) writeBlob(data []byte) (plumbing.Hash, error) {
	obj := r.git.Storer.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	obj.SetSize(int64(len(data)))
	w, err := obj.Writer()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Close()
		return plumbing.ZeroHash, err
	}
	if err := w.Close(); err != nil {
		return plumbing.ZeroHash, err
	}
	return r.git.Storer.SetEncodedObject(obj)
}

// NewBranchName is the name of a new console branch for an action on a
// promotion at instant at: promoctl/<action>-<id>-<yyyymmdd-hhmmss>, with
// a counter appended when that name is taken.
func (r *Repo) NewBranchName(action, id string, at time.Time) string {
	base := fmt.Sprintf("%s%s-%s-%s", BranchPrefix, action, id, at.UTC().Format("20060102-150405"))
	name := base
	for i := 2; ; i++ {
		if _, err := r.git.Storer.Reference(plumbing.NewBranchReferenceName(name)); errors.Is(err, plumbing.ErrReferenceNotFound) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// Branch is one of the console's branches.
type Branch struct {
	Name string
	Tip  plumbing.Hash
	When time.Time // of the tip commit
}

// Branches lists the local branches whose names start with BranchPrefix,
// the newest first.
func (r *Repo) Branches() ([]Branch, error) {
	refs, err := r.git.Branches()
	if err != nil {
		return nil, fmt.Errorf("list branches: %w", err)
	}
	var out []Branch
	err = refs.ForEach(func(ref *plumbing.Reference) error {
		name := ref.Name().Short()
		if !strings.HasPrefix(name, BranchPrefix) {
			return nil
		}
		c, err := r.git.CommitObject(ref.Hash())
		if err != nil {
			return fmt.Errorf("read tip of %s: %w", name, err)
		}
		out = append(out, Branch{Name: name, Tip: ref.Hash(), When: c.Committer.When})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].When.Equal(out[j].When) {
			return out[i].When.After(out[j].When)
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// MergeBase is the best common ancestor of two commits.
func (r *Repo) MergeBase(a, b plumbing.Hash) (plumbing.Hash, error) {
	ca, err := r.git.CommitObject(a)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", a, err)
	}
	cb, err := r.git.CommitObject(b)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", b, err)
	}
	bases, err := ca.MergeBase(cb)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("merge base of %s and %s: %w", short(a), short(b), err)
	}
	if len(bases) == 0 {
		return plumbing.ZeroHash, fmt.Errorf("%s and %s have no common ancestor", short(a), short(b))
	}
	return bases[0].Hash, nil
}

// Commits lists the commits reachable from tip and not from base, the
// newest first, at most limit of them (0: no limit).
func (r *Repo) Commits(tip, base plumbing.Hash, limit int) ([]*object.Commit, error) {
	var out []*object.Commit
	for h := tip; h != base && !h.IsZero(); {
		c, err := r.git.CommitObject(h)
		if err != nil {
			return nil, fmt.Errorf("read commit %s: %w", h, err)
		}
		out = append(out, c)
		if limit > 0 && len(out) >= limit || len(c.ParentHashes) == 0 {
			break
		}
		h = c.ParentHashes[0]
	}
	return out, nil
}

// Fetch updates remote's tracking branch of branch.
func (r *Repo) Fetch(remote, branch string) error {
	spec := config.RefSpec(fmt.Sprintf("+refs/heads/%s:refs/remotes/%s/%s", branch, remote, branch))
	err := r.git.Fetch(&git.FetchOptions{RemoteName: remote, RefSpecs: []config.RefSpec{spec}, Progress: io.Discard})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("fetch %s from %s: %w", branch, remote, err)
	}
	return nil
}

// Push pushes a local branch to the branch of the same name on remote.
func (r *Repo) Push(remote, branch string) error {
	spec := config.RefSpec(fmt.Sprintf("refs/heads/%s:refs/heads/%s", branch, branch))
	err := r.git.Push(&git.PushOptions{RemoteName: remote, RefSpecs: []config.RefSpec{spec}, Progress: io.Discard})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("push %s to %s: %w", branch, remote, err)
	}
	return nil
}

// RemoteURL is the first URL of a remote.
func (r *Repo) RemoteURL(remote string) (string, error) {
	rem, err := r.git.Remote(remote)
	if err != nil {
		return "", fmt.Errorf("remote %s: %w", remote, err)
	}
	if urls := rem.Config().URLs; len(urls) > 0 {
		return urls[0], nil
	}
	return "", fmt.Errorf("remote %s has no URL", remote)
}

// PullRequestURL is the page that opens a pull (merge) request of branch
// into base on GitHub, GitLab, Bitbucket, Gitea or Forgejo (recognised by
// their host names), "" for other hosts. It understands HTTPS and SSH
// remote URLs.
func PullRequestURL(remoteURL, base, branch string) string {
	host, repoPath, ok := hostAndPath(remoteURL)
	if !ok {
		return ""
	}
	switch {
	case host == "github.com" || strings.HasPrefix(host, "github."):
		return fmt.Sprintf("https://%s/%s/compare/%s...%s?expand=1", host, repoPath, escapeRef(base), escapeRef(branch))
	case host == "gitlab.com" || strings.HasPrefix(host, "gitlab."):
		return fmt.Sprintf("https://%s/%s/-/merge_requests/new?merge_request%%5Bsource_branch%%5D=%s&merge_request%%5Btarget_branch%%5D=%s",
			host, repoPath, queryEscape(branch), queryEscape(base))
	case host == "bitbucket.org" || strings.HasPrefix(host, "bitbucket."):
		return fmt.Sprintf("https://%s/%s/pull-requests/new?source=%s&dest=%s", host, repoPath, queryEscape(branch), queryEscape(base))
	case host == "codeberg.org" || strings.HasPrefix(host, "gitea.") || strings.HasPrefix(host, "forgejo."):
		// Gitea and Forgejo open a pull request from the compare view.
		return fmt.Sprintf("https://%s/%s/compare/%s...%s", host, repoPath, escapeRef(base), escapeRef(branch))
	}
	return ""
}

func hostAndPath(u string) (host, repoPath string, ok bool) {
	u = strings.TrimSpace(u)
	switch {
	case strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "ssh://"):
		rest := u[strings.Index(u, "://")+3:]
		host, repoPath, ok = strings.Cut(rest, "/")
		if at := strings.LastIndex(host, "@"); at >= 0 {
			host = host[at+1:]
		}
		if colon := strings.Index(host, ":"); colon >= 0 {
			host = host[:colon]
		}
	case strings.Contains(u, "@") && strings.Contains(u, ":"): // git@github.com:owner/repo.git
		_, rest, _ := strings.Cut(u, "@")
		host, repoPath, ok = strings.Cut(rest, ":")
	default:
		return "", "", false
	}
	repoPath = strings.TrimSuffix(strings.Trim(repoPath, "/"), ".git")
	if !ok || host == "" || repoPath == "" || strings.Count(repoPath, "/") < 1 {
		return "", "", false
	}
	return strings.ToLower(host), repoPath, true
}

func escapeRef(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts {
		parts[i] = queryEscape(p)
	}
	return strings.Join(parts, "/")
}

func queryEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func short(h plumbing.Hash) string { return h.String()[:12] }

// Dir is the directory the repository was opened at.
func (r *Repo) Dir() string { return filepath.Clean(r.dir) }
