package fsutil

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// PrivateDir makes sure dir is a directory only its owner can write: it
// creates it (mode 0700) when missing, and refuses one that group or
// others may write, or that another user owns. A sidecar keeps files there
// that it serves without further proof (an unsigned snapshot cache), so a
// directory anyone can write into would let anyone decide its answers.
func PrivateDir(dir string) error {
	info, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		info, err = os.Stat(dir)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	if !info.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("%s is writable by other users (mode %#o): use a directory only its owner can write, e.g. mode 0700", dir, perm)
	}
	if owner, ok := fileOwner(info); ok && owner != os.Geteuid() {
		return fmt.Errorf("%s belongs to user %d, not to this process's user %d", dir, owner, os.Geteuid())
	}
	return nil
}
