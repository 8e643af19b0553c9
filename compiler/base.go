package compiler

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
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
	sub, err := subPath(repo, dir)
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
	g := newGitFS(repo.Storer, tree.Hash, commit.Committer.When)
	if sub != "" {
		_, entry, err := g.resolve(sub, true)
		switch {
		case errors.Is(err, fs.ErrNotExist) || (err == nil && (entry == nil || entry.Mode != filemode.Dir)):
			g.root = emptyTree
		case err != nil:
			return nil, fmt.Errorf("read %s at %s: %w", sub, rev, err)
		default:
			g.root = entry.Hash
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

// subPath is dir relative to the repository's worktree root, "" for the
// root itself and for a bare repository.
func subPath(repo *git.Repository, dir string) (string, error) {
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

// gitFS serves a git tree as an fs.FS. Symlinks inside the tree are
// followed like on disk; links that leave the tree do not exist.
//
// Each tree object is decoded once and kept: go-git decodes a tree on
// every lookup, which made reading a directory of n files cost n decodes
// of that directory (quadratic; seconds on a 1,000-promotion repo). The
// kept trees are read-only, so the loader's workers share them safely.
type gitFS struct {
	objects storer.EncodedObjectStorer
	root    plumbing.Hash
	modTime time.Time

	mu    sync.Mutex
	trees map[plumbing.Hash]*gitTree
}

// gitTree is one decoded tree object, its entries in git's order.
type gitTree struct {
	entries []object.TreeEntry
	byName  map[string]int
}

// emptyTree stands for a config directory that did not exist at the
// revision.
var emptyTree = plumbing.ZeroHash

func newGitFS(objects storer.EncodedObjectStorer, root plumbing.Hash, modTime time.Time) *gitFS {
	return &gitFS{objects: objects, root: root, modTime: modTime,
		trees: map[plumbing.Hash]*gitTree{emptyTree: {}}}
}

var (
	_ fs.ReadDirFS  = (*gitFS)(nil)
	_ fs.ReadFileFS = (*gitFS)(nil)
	_ fs.StatFS     = (*gitFS)(nil)
)

func (g *gitFS) tree(hash plumbing.Hash) (*gitTree, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t, ok := g.trees[hash]; ok {
		return t, nil
	}
	decoded, err := object.GetTree(g.objects, hash)
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", hash, err)
	}
	t := &gitTree{entries: decoded.Entries, byName: make(map[string]int, len(decoded.Entries))}
	for i, e := range t.entries {
		t.byName[e.Name] = i
	}
	g.trees[hash] = t
	return t, nil
}

// maxLinkHops bounds symlink resolution, as the kernel's ELOOP does.
const maxLinkHops = 40

// resolve follows symlinks in name (in its last element too when follow
// is set) and returns the clean path and the entry it names; nil for the
// root.
func (g *gitFS) resolve(name string, follow bool) (string, *object.TreeEntry, error) {
	if name == "." {
		return ".", nil, nil
	}
	parts := strings.Split(name, "/")
	hops := 0
restart:
	cur, curPath := g.root, ""
	for i := 0; i < len(parts); i++ {
		dir, err := g.tree(cur)
		if err != nil {
			return "", nil, err
		}
		at, ok := dir.byName[parts[i]]
		if !ok {
			return "", nil, fs.ErrNotExist
		}
		entry := &dir.entries[at]
		last := i == len(parts)-1
		if entry.Mode == filemode.Symlink && (!last || follow) {
			if hops++; hops > maxLinkHops {
				return "", nil, fmt.Errorf("too many levels of symbolic links")
			}
			target, err := g.blob(entry)
			if err != nil {
				return "", nil, err
			}
			next := path.Join(curPath, string(target))
			if path.IsAbs(string(target)) || next == ".." || strings.HasPrefix(next, "../") {
				return "", nil, fs.ErrNotExist
			}
			rest := parts[i+1:]
			parts = nil
			if next != "." {
				parts = strings.Split(next, "/")
			}
			parts = append(parts, rest...)
			if len(parts) == 0 {
				return ".", nil, nil
			}
			goto restart
		}
		curPath = path.Join(curPath, parts[i])
		if last {
			return curPath, entry, nil
		}
		if entry.Mode != filemode.Dir {
			return "", nil, fs.ErrNotExist
		}
		cur = entry.Hash
	}
	return curPath, nil, nil
}

func (g *gitFS) blob(e *object.TreeEntry) ([]byte, error) {
	b, err := object.GetBlob(g.objects, e.Hash)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Name, err)
	}
	r, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Name, err)
	}
	defer r.Close()
	data := make([]byte, 0, b.Size)
	buf := bytes.NewBuffer(data)
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, fmt.Errorf("read %s: %w", e.Name, err)
	}
	return buf.Bytes(), nil
}

// dirTree returns the tree of the directory at a resolved or unresolved
// name.
func (g *gitFS) dirTree(name string) (*gitTree, error) {
	_, entry, err := g.resolve(name, true)
	if err != nil {
		return nil, err
	}
	if entry == nil {
		return g.tree(g.root)
	}
	if entry.Mode != filemode.Dir {
		return nil, fmt.Errorf("%s is not a directory", name)
	}
	return g.tree(entry.Hash)
}

func (g *gitFS) Open(name string) (fs.File, error) {
	info, err := g.Stat(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		entries, err := g.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &gitDir{info: info, entries: entries}, nil
	}
	data, err := g.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &gitFile{info: info, r: bytes.NewReader(data)}, nil
}

func (g *gitFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	_, entry, err := g.resolve(name, true)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	if entry == nil || !entry.Mode.IsFile() || entry.Mode == filemode.Symlink {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("not a regular file")}
	}
	data, err := g.blob(entry)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return data, nil
}

// sameAsHead serves a base revision, reading each file whose blob is
// byte for byte the head's file from the head instead: in a pull request
// that is nearly every file, and hashing a file is cheaper than inflating
// its git object.
type sameAsHead struct {
	*gitFS
	head fs.FS
}

func (s *sameAsHead) ReadFile(name string) ([]byte, error) {
	if _, entry, err := s.resolve(name, true); err == nil && entry != nil && entry.Mode.IsFile() && entry.Mode != filemode.Symlink {
		if data, err := fs.ReadFile(s.head, name); err == nil && plumbing.ComputeHash(plumbing.BlobObject, data) == entry.Hash {
			return data, nil
		}
	}
	return s.gitFS.ReadFile(name)
}

func (g *gitFS) Stat(name string) (fs.FileInfo, error) {
	return g.stat(name, true)
}

func (g *gitFS) stat(name string, follow bool) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	_, entry, err := g.resolve(name, follow)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if entry == nil {
		return gitInfo{name: ".", mode: fs.ModeDir | 0o555, modTime: g.modTime}, nil
	}
	return g.info(path.Base(name), entry), nil
}

func (g *gitFS) info(name string, entry *object.TreeEntry) gitInfo {
	info := gitInfo{name: name, modTime: g.modTime}
	switch entry.Mode {
	case filemode.Dir:
		info.mode = fs.ModeDir | 0o555
	case filemode.Symlink:
		info.mode = fs.ModeSymlink | 0o777
	case filemode.Submodule:
		info.mode = fs.ModeIrregular
	default:
		info.mode = 0o444
		// The object header holds the size: no need to inflate the blob.
		if size, err := g.objects.EncodedObjectSize(entry.Hash); err == nil {
			info.size = size
		}
	}
	return info
}

func (g *gitFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	t, err := g.dirTree(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, 0, len(t.entries))
	for i := range t.entries {
		out = append(out, fs.FileInfoToDirEntry(g.info(t.entries[i].Name, &t.entries[i])))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

type gitInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (i gitInfo) Name() string       { return i.name }
func (i gitInfo) Size() int64        { return i.size }
func (i gitInfo) Mode() fs.FileMode  { return i.mode }
func (i gitInfo) ModTime() time.Time { return i.modTime }
func (i gitInfo) IsDir() bool        { return i.mode.IsDir() }
func (i gitInfo) Sys() any           { return nil }

type gitFile struct {
	info fs.FileInfo
	r    *bytes.Reader
}

func (f *gitFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *gitFile) Read(p []byte) (int, error) { return f.r.Read(p) }
func (f *gitFile) Close() error               { return nil }

type gitDir struct {
	info    fs.FileInfo
	entries []fs.DirEntry
	offset  int
}

func (d *gitDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *gitDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.info.Name(), Err: errors.New("is a directory")}
}
func (d *gitDir) Close() error { return nil }

func (d *gitDir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.offset:]
	if n <= 0 {
		d.offset = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	if n > len(rest) {
		n = len(rest)
	}
	d.offset += n
	return rest[:n], nil
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
	sub, err := subPath(repo, dir)
	if err != nil || sub == "" {
		return ""
	}
	return sub + "/"
}
