package treefs

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"sort"
)

// Overlay returns a file system that reads like base with the given files
// (slash-separated paths relative to base's root) replaced or added in
// memory. The apply-flow commands load the repo through it to validate a
// change in full before anything is written; directories that only the
// overlay creates appear in listings too.
func Overlay(base fs.FS, files map[string][]byte) fs.FS {
	o := &overlayFS{base: base, files: map[string][]byte{}, dirs: map[string]map[string]bool{}}
	for name, data := range files {
		name = path.Clean(name)
		o.files[name] = data
		for child, dir := name, path.Dir(name); ; child, dir = dir, path.Dir(dir) {
			if o.dirs[dir] == nil {
				o.dirs[dir] = map[string]bool{}
			}
			o.dirs[dir][path.Base(child)] = child != name
			if dir == "." {
				break
			}
		}
	}
	return o
}

type overlayFS struct {
	base  fs.FS
	files map[string][]byte
	// dirs maps every directory on the way to an overlay file to the names
	// it gains (true for a sub-directory).
	dirs map[string]map[string]bool
}

var (
	_ fs.ReadDirFS  = (*overlayFS)(nil)
	_ fs.ReadFileFS = (*overlayFS)(nil)
	_ fs.StatFS     = (*overlayFS)(nil)
)

func (o *overlayFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if data, ok := o.files[name]; ok {
		return newFile(fileInfo(path.Base(name), int64(len(data))), data), nil
	}
	if _, ok := o.dirs[name]; ok {
		entries, err := o.ReadDir(name)
		if err != nil {
			return nil, err
		}
		info, err := o.Stat(name)
		if err != nil {
			return nil, err
		}
		return &dir{info: info, entries: entries}, nil
	}
	return o.base.Open(name)
}

func (o *overlayFS) ReadFile(name string) ([]byte, error) {
	if data, ok := o.files[name]; ok {
		return bytes.Clone(data), nil
	}
	if _, ok := o.dirs[name]; ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	return fs.ReadFile(o.base, name)
}

func (o *overlayFS) Stat(name string) (fs.FileInfo, error) {
	if data, ok := o.files[name]; ok {
		return fileInfo(path.Base(name), int64(len(data))), nil
	}
	if _, ok := o.dirs[name]; ok {
		if info, err := fs.Stat(o.base, name); err == nil && info.IsDir() {
			return info, nil
		}
		return dirInfo(path.Base(name)), nil
	}
	return fs.Stat(o.base, name)
}

func (o *overlayFS) ReadDir(name string) ([]fs.DirEntry, error) {
	added, ok := o.dirs[name]
	if !ok {
		return fs.ReadDir(o.base, name)
	}
	baseEntries, err := fs.ReadDir(o.base, name)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var out []fs.DirEntry
	for _, e := range baseEntries {
		if _, replaced := added[e.Name()]; !replaced {
			out = append(out, e)
		}
	}
	for child, isDir := range added {
		if isDir {
			if info, err := fs.Stat(o.base, path.Join(name, child)); err == nil && info.IsDir() {
				out = append(out, fs.FileInfoToDirEntry(info))
				continue
			}
		}
		var size int64
		if !isDir {
			size = int64(len(o.files[path.Join(name, child)]))
		}
		out = append(out, fs.FileInfoToDirEntry(memEntryInfo(child, size, isDir)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// fileInfo and dirInfo describe the overlay's own files and directories.
func fileInfo(name string, size int64) info { return info{name: name, size: size, mode: 0o644} }
func dirInfo(name string) info              { return info{name: name, mode: fs.ModeDir | 0o755} }

func memEntryInfo(name string, size int64, isDir bool) info {
	if isDir {
		return dirInfo(name)
	}
	return fileInfo(name, size)
}

// LinkResolver is implemented by file systems with symbolic links (the
// compiler's DirFS): ResolveLink gives the real path of a link relative to
// the root and the info of what it points to, or an error for a link that
// leaves the root.
type LinkResolver interface {
	ResolveLink(name string) (string, fs.FileInfo, error)
}

// ResolveLink resolves links of the base; overlay files are no links.
func (o *overlayFS) ResolveLink(name string) (string, fs.FileInfo, error) {
	if r, ok := o.base.(LinkResolver); ok {
		return r.ResolveLink(name)
	}
	info, err := fs.Stat(o.base, name)
	return name, info, err
}
