package fsutil

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// WriteFileAtomic replaces the file at path with data so that a concurrent
// reader — a watching sidecar, an editor — sees either the old or the new
// content, never a part of it: the data goes to a temporary file in the
// same directory, is synced, and is renamed over the target; the directory
// is synced so the rename survives a crash. An existing file keeps its
// permission bits (perm applies to a new file); a symlink keeps pointing to
// its target, which is the file replaced. The temporary file's name starts
// with a dot, so a config-repo walk never loads it.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	return writeFileAtomic(path, data, perm, nil)
}

// ErrChangedOnDisk is returned by ReplaceFileAtomic when the file no longer
// holds the content the edit was made from.
var ErrChangedOnDisk = errors.New("the file changed on disk since it was read")

// ReplaceFileAtomic is WriteFileAtomic for an edit of a file that held old:
// just before the rename it checks that the file still holds exactly old
// (compare and swap on the content) and, when it does not — someone saved
// the file meanwhile — removes its temporary file and returns
// ErrChangedOnDisk, so that a concurrent change is never silently
// overwritten. A nil old means the file must not exist yet.
func ReplaceFileAtomic(path string, old, data []byte, perm fs.FileMode) error {
	return writeFileAtomic(path, data, perm, func(target string) error {
		current, err := os.ReadFile(target) // #nosec G304 -- the file being edited, inside the repo
		switch {
		case old == nil && errors.Is(err, fs.ErrNotExist):
			return nil
		case old == nil && err == nil:
			return fmt.Errorf("%w: it exists now", ErrChangedOnDisk)
		case err != nil:
			return err
		case !bytes.Equal(current, old):
			return ErrChangedOnDisk
		}
		return nil
	})
}

// writeFileAtomic writes data to a temporary file and renames it over
// path's target; check, when set, runs right before the rename and cancels
// the write when it fails.
func writeFileAtomic(path string, data []byte, perm fs.FileMode, check func(target string) error) (err error) {
	target := path
	if info, lerr := os.Lstat(path); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return fmt.Errorf("write %s: resolve symlink: %w", path, err)
		}
	}
	mode := perm
	if info, serr := os.Stat(target); serr == nil {
		if !info.Mode().IsRegular() {
			return fmt.Errorf("write %s: not a regular file", path)
		}
		mode = info.Mode().Perm()
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return fmt.Errorf("write %s: %w", path, serr)
	}

	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: set mode: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if check != nil {
		if err = check(target); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("write %s: rename: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: sync directory: %w", path, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Windows cannot open a directory
// for syncing; there the rename is as durable as the file system makes it.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir) // #nosec G304 -- the directory of the file being written
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
