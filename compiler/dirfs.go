package compiler

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/internal/treefs"
)

// UnsafePathError says that a path of the repo is not something the loader
// may open: a link whose real location lies outside the repo root, or a
// named pipe, socket or device. Its content is never read nor printed.
type UnsafePathError struct {
	Path   string // slash-separated, relative to the repo root
	Reason string // what it is: "a named pipe (FIFO)"
}

func (e *UnsafePathError) Error() string { return fmt.Sprintf("%s is %s", e.Path, e.Reason) }

// DirFS is the file system of a config repo on disk. Unlike os.DirFS it
// never leaves the repo: the root's real path is resolved once, when DirFS
// is made (so a root that is itself a link, as git-sync makes it, is
// followed again by every load that makes a new one); links are followed
// only while they stay inside that real root; and files are opened without
// blocking, so that a named pipe can be refused instead of waited on.
type DirFS struct {
	dir  string   // as given, for messages
	real string   // the root's real, absolute path
	root *os.Root // opened on real
	err  error    // why the root cannot be opened
}

var (
	_ fs.StatFS           = (*DirFS)(nil)
	_ fs.ReadDirFS        = (*DirFS)(nil)
	_ treefs.LinkResolver = (*DirFS)(nil)
	_ io.Closer           = (*DirFS)(nil)
	_ fs.ReadFileFS       = (*DirFS)(nil)
)

// OpenDir returns the repo at dir as a DirFS. Errors opening the root are
// reported by the first operation, as os.DirFS does; Close releases the
// root's descriptor.
func OpenDir(dir string) *DirFS {
	d := &DirFS{dir: dir}
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err == nil {
		d.real = real
		d.root, err = os.OpenRoot(real)
	}
	d.err = err
	return d
}

// Close releases the root directory.
func (d *DirFS) Close() error {
	if d.root == nil {
		return nil
	}
	return d.root.Close()
}

func (d *DirFS) check(op, name string) error {
	if d.err != nil {
		return &fs.PathError{Op: op, Path: name, Err: d.err}
	}
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

// Open opens name for reading without following a link out of the repo
// and without blocking: a named pipe opens at once (and is then refused
// by the caller's check that it is a regular file, see readConfigFile).
func (d *DirFS) Open(name string) (fs.File, error) {
	if err := d.check("open", name); err != nil {
		return nil, err
	}
	f, err := d.root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, d.classify(name, err)
	}
	return f, nil
}

// Stat returns the file info of name, following links inside the repo.
func (d *DirFS) Stat(name string) (fs.FileInfo, error) {
	if err := d.check("stat", name); err != nil {
		return nil, err
	}
	info, err := d.root.Stat(name)
	if err != nil {
		return nil, d.classify(name, err)
	}
	return info, nil
}

// ReadDir lists a directory of the repo.
func (d *DirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := d.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dir, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	entries, err := dir.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

// ReadFile reads a regular file of the repo, bounded by the default file
// size limit; the loader reads through readConfigFile with its own limit.
func (d *DirFS) ReadFile(name string) ([]byte, error) {
	data, _, err := readConfigFile(d, name, maxReadFile)
	return data, err
}

// maxReadFile bounds reads that do not carry a limit of their own (source
// frames, git status): no config file the loader accepts is larger.
const maxReadFile = 1 << 30

// ResolveLink returns the real path of a link, relative to the root, and
// the info of what it points to. A link out of the repo is an
// *UnsafePathError.
func (d *DirFS) ResolveLink(name string) (string, fs.FileInfo, error) {
	if err := d.check("resolve", name); err != nil {
		return "", nil, err
	}
	real, err := filepath.EvalSymlinks(filepath.Join(d.real, filepath.FromSlash(name)))
	if err != nil {
		return "", nil, err
	}
	rel, err := filepath.Rel(d.real, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		// Whether it leads to a directory decides if it matters; a stat
		// reads nothing.
		info, _ := os.Stat(real)
		return "", info, &UnsafePathError{Path: name, Reason: "a link to a path outside the repo"}
	}
	info, err := d.root.Stat(name)
	if err != nil {
		return "", nil, d.classify(name, err)
	}
	return filepath.ToSlash(rel), info, nil
}

// classify turns os.Root's refusal to leave the root into an
// *UnsafePathError; os does not export that error, so it is recognised by
// checking where the path really leads.
func (d *DirFS) classify(name string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	real, evalErr := filepath.EvalSymlinks(filepath.Join(d.real, filepath.FromSlash(name)))
	if evalErr != nil {
		return err
	}
	if rel, relErr := filepath.Rel(d.real, real); relErr != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return &UnsafePathError{Path: name, Reason: "a link to a path outside the repo"}
	}
	return err
}

// readConfigFile reads one file through fsys. Only a regular file is read
// (checked on the opened file, so nothing can be swapped in between), and
// never more than limit bytes whatever its size says: a device or a file
// that grows while it is read cannot make the loader hold more. It returns
// the info of the file it read. A file over the limit is a *fileTooLargeError.
func readConfigFile(fsys fs.FS, name string, limit int64) ([]byte, fs.FileInfo, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, info, &UnsafePathError{Path: name, Reason: fsutil.DescribeMode(info.Mode())}
	}
	if info.Size() > limit {
		return nil, info, &fileTooLargeError{size: info.Size(), limit: limit}
	}
	data, over, err := fsutil.ReadAtMost(f, info.Size(), limit)
	if err != nil {
		return nil, info, err
	}
	if over {
		return nil, info, &fileTooLargeError{size: int64(len(data)), limit: limit, grew: true}
	}
	return data, info, nil
}

// fileTooLargeError is a file over the size limit.
type fileTooLargeError struct {
	size, limit int64
	grew        bool // read past the limit although its size said otherwise
}

func (e *fileTooLargeError) Error() string {
	if e.grew {
		return fmt.Sprintf("file holds more than the limit of %d bytes", e.limit)
	}
	return fmt.Sprintf("file is %d bytes, more than the limit of %d bytes", e.size, e.limit)
}
