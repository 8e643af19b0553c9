package treefs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// Git serves a git tree as an fs.FS. Symlinks inside the tree are
// followed like on disk; links that leave the tree do not exist.
//
// Each tree object is decoded once and kept: go-git decodes a tree on
// every lookup, which made reading a directory of n files cost n decodes
// of that directory (quadratic; seconds on a 1,000-promotion repo). The
// kept trees are read-only, so the loader's workers share them safely.
type Git struct {
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

// emptyTree stands for a directory that did not exist at the revision.
var emptyTree = plumbing.ZeroHash

// NewGit serves the tree root of objects; every file reports modTime
// (the commit's time).
func NewGit(objects storer.EncodedObjectStorer, root plumbing.Hash, modTime time.Time) *Git {
	return &Git{objects: objects, root: root, modTime: modTime,
		trees: map[plumbing.Hash]*gitTree{emptyTree: {}}}
}

// Dir serves the sub-directory name of the tree (symlinks followed). A
// directory the tree does not have reads as empty: a config repo that
// did not exist at a revision has no files there.
func (g *Git) Dir(name string) (*Git, error) {
	_, entry, err := g.resolve(name, true)
	sub := NewGit(g.objects, emptyTree, g.modTime)
	switch {
	case errors.Is(err, fs.ErrNotExist) || (err == nil && (entry == nil || entry.Mode != filemode.Dir)):
	case err != nil:
		return nil, err
	default:
		sub.root = entry.Hash
	}
	return sub, nil
}

var (
	_ fs.ReadDirFS  = (*Git)(nil)
	_ fs.ReadFileFS = (*Git)(nil)
	_ fs.StatFS     = (*Git)(nil)
)

func (g *Git) tree(hash plumbing.Hash) (*gitTree, error) {
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
func (g *Git) resolve(name string, follow bool) (string, *object.TreeEntry, error) {
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

func (g *Git) blob(e *object.TreeEntry) ([]byte, error) {
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
func (g *Git) dirTree(name string) (*gitTree, error) {
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

func (g *Git) Open(name string) (fs.File, error) {
	info, err := g.Stat(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		entries, err := g.ReadDir(name)
		if err != nil {
			return nil, err
		}
		return &dir{info: info, entries: entries}, nil
	}
	data, err := g.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return newFile(info, data), nil
}

func (g *Git) ReadFile(name string) ([]byte, error) {
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

// SameAsHead serves the tree, reading each file whose blob is byte for
// byte head's file from head instead: comparing a pull request with its
// base, that is nearly every file, and hashing a file is cheaper than
// inflating its git object.
func (g *Git) SameAsHead(head fs.FS) fs.FS { return &sameAsHead{Git: g, head: head} }

type sameAsHead struct {
	*Git
	head fs.FS
}

func (s *sameAsHead) ReadFile(name string) ([]byte, error) {
	if _, entry, err := s.resolve(name, true); err == nil && entry != nil && entry.Mode.IsFile() && entry.Mode != filemode.Symlink {
		if data, err := fs.ReadFile(s.head, name); err == nil && plumbing.ComputeHash(plumbing.BlobObject, data) == entry.Hash {
			return data, nil
		}
	}
	return s.Git.ReadFile(name)
}

func (g *Git) Stat(name string) (fs.FileInfo, error) {
	return g.stat(name, true)
}

func (g *Git) stat(name string, follow bool) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	_, entry, err := g.resolve(name, follow)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if entry == nil {
		return info{name: ".", mode: fs.ModeDir | 0o555, modTime: g.modTime}, nil
	}
	return g.entryInfo(path.Base(name), entry), nil
}

func (g *Git) entryInfo(name string, entry *object.TreeEntry) info {
	inf := info{name: name, modTime: g.modTime}
	switch entry.Mode {
	case filemode.Dir:
		inf.mode = fs.ModeDir | 0o555
	case filemode.Symlink:
		inf.mode = fs.ModeSymlink | 0o777
	case filemode.Submodule:
		inf.mode = fs.ModeIrregular
	default:
		inf.mode = 0o444
		// The object header holds the size: no need to inflate the blob.
		if size, err := g.objects.EncodedObjectSize(entry.Hash); err == nil {
			inf.size = size
		}
	}
	return inf
}

func (g *Git) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	t, err := g.dirTree(name)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, 0, len(t.entries))
	for i := range t.entries {
		out = append(out, fs.FileInfoToDirEntry(g.entryInfo(t.entries[i].Name, &t.entries[i])))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}
