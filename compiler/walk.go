package compiler

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/internal/treefs"
)

// ConfigFiles lists the YAML files of a repo in lexical order, as Load
// reads them (see scanTree); paths the loader refuses are left out.
func ConfigFiles(fsys fs.FS) ([]string, error) {
	t, err := scanTree(fsys)
	if err != nil {
		return nil, err
	}
	return t.files, nil
}

// repoTree is what a walk of the repo found: the config files to read and
// the paths that must not be read.
type repoTree struct {
	files  []string
	unsafe []*UnsafePathError
}

const maxWalkDepth = 32

// scanTree walks the repo. Directories whose name starts with a dot (.git,
// and the ..data / ..2026_… directories of Kubernetes ConfigMap volumes)
// are skipped. Only regular files are listed; a config-named FIFO, socket
// or device, and a link that leads out of the repo (to a config file or a
// directory), are unsafe paths instead. A link that stays inside the repo
// is followed only to what the plain walk does not reach — a dot
// directory, as ConfigMap volumes expose their files through `..data` —
// and each real file or directory is read once, so that no file counts
// twice and no link loop is walked.
func scanTree(fsys fs.FS) (*repoTree, error) {
	w := &treeWalker{fsys: fsys, walked: map[string]bool{}, listed: map[string]bool{}}
	w.resolver, _ = fsys.(treefs.LinkResolver)
	if err := w.walk(".", ".", 0); err != nil {
		return nil, err
	}
	sort.Strings(w.tree.files)
	sort.Slice(w.tree.unsafe, func(i, j int) bool { return w.tree.unsafe[i].Path < w.tree.unsafe[j].Path })
	return &w.tree, nil
}

type treeWalker struct {
	fsys     fs.FS
	resolver treefs.LinkResolver // nil for file systems without links
	tree     repoTree
	// walked and listed hold the real paths of the directories walked and
	// the files listed.
	walked, listed map[string]bool
}

func (w *treeWalker) walk(dir, real string, depth int) error {
	if depth > maxWalkDepth {
		return fmt.Errorf("walk %s: directories nested deeper than %d (symlink loop?)", dir, maxWalkDepth)
	}
	w.walked[real] = true
	entries, err := fs.ReadDir(w.fsys, dir)
	if err != nil {
		return fmt.Errorf("read directory %s: %w", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		p, rp := path.Join(dir, name), path.Join(real, name)
		switch mode := e.Type(); {
		case mode&fs.ModeSymlink != 0:
			if err := w.link(p, depth); err != nil {
				return err
			}
		case mode.IsDir():
			if err := w.walk(p, rp, depth+1); err != nil {
				return err
			}
		case !IsConfigFile(name):
		case mode.IsRegular():
			w.tree.files = append(w.tree.files, p)
			w.listed[rp] = true
		default:
			w.tree.unsafe = append(w.tree.unsafe, &UnsafePathError{Path: p, Reason: fsutil.DescribeMode(mode)})
		}
	}
	return nil
}

// link handles a symbolic link at p.
func (w *treeWalker) link(p string, depth int) error {
	if w.resolver == nil {
		// A file system without real paths (a test's map): follow it.
		info, err := fs.Stat(w.fsys, p)
		if err != nil {
			return nil // dangling link: nothing to load
		}
		if info.IsDir() {
			return w.walk(p, p, depth+1)
		}
		w.file(p, p, info.Mode())
		return nil
	}
	real, info, err := w.resolver.ResolveLink(p)
	var unsafe *UnsafePathError
	switch {
	case errors.As(err, &unsafe):
		if IsConfigFile(path.Base(p)) || (info != nil && info.IsDir()) {
			w.tree.unsafe = append(w.tree.unsafe, unsafe)
		}
		return nil
	case err != nil:
		return nil // dangling link (a ConfigMap swap in progress): nothing to load
	case info.IsDir():
		if plainlyWalked(real) || w.walked[real] {
			return nil
		}
		return w.walk(p, real, depth+1)
	case plainlyWalked(real) && IsConfigFile(path.Base(real)):
		return nil // read where it really is
	case w.listed[real]:
		return nil
	}
	w.file(p, real, info.Mode())
	return nil
}

func (w *treeWalker) file(p, real string, mode fs.FileMode) {
	switch {
	case !IsConfigFile(path.Base(p)):
	case mode.IsRegular():
		w.tree.files = append(w.tree.files, p)
		w.listed[real] = true
	default:
		w.tree.unsafe = append(w.tree.unsafe, &UnsafePathError{Path: p, Reason: fsutil.DescribeMode(mode)})
	}
}

// plainlyWalked reports whether the walk reaches a real path without
// following a link: no element of it starts with a dot.
func plainlyWalked(real string) bool {
	if real == "." {
		return true
	}
	for _, elem := range strings.Split(real, "/") {
		if strings.HasPrefix(elem, ".") {
			return false
		}
	}
	return true
}

// IsConfigFile reports whether a file name is a YAML config file.
func IsConfigFile(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}
