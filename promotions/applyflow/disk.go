package applyflow

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/promoctl/promoctl/internal/fsutil"
)

// Disk is a repo directory opened for an edit. Unless it is a dry run, it
// holds the repo's lock from Open to Close, so the content a change is
// planned on is still the content on disk when it is written: concurrent
// editing commands queue instead of overwriting each other.
type Disk struct {
	*Session
	root  string
	lock  *fsutil.RepoLock // nil on a dry run
	close func() error     // releases the repo directory
}

// OpenDisk locks (unless dryRun) and opens the repo at root, validated by
// v. A repo locked by someone else for longer than lockTimeout is
// fsutil.ErrRepoLocked.
//
// The lock lives in root's .promoctl/ directory. When there is none yet,
// the repo is loaded first and the directory is created only once the load
// succeeded: a command run in the wrong directory (no repo, or a
// sub-directory of one) must leave nothing behind there.
//
// The probe load and the load under the lock go through the same v: with
// a cache (compiler.NewValidator), the second re-reads the files but
// parses only those that changed in between.
func OpenDisk(root string, v Validator, lockTimeout time.Duration, dryRun bool) (*Disk, error) {
	opts := Options{Validator: v}
	var lock *fsutil.RepoLock
	if !dryRun {
		if _, err := os.Lstat(filepath.Join(root, fsutil.LockDir)); errors.Is(err, fs.ErrNotExist) {
			probe, closeProbe := v.OpenDir(root)
			_, err := Open(probe, opts)
			_ = closeProbe()
			if err != nil {
				return nil, err
			}
		}
		var err error
		if lock, err = fsutil.LockRepo(root, lockTimeout); err != nil {
			return nil, err
		}
	}
	repo, closeRepo := v.OpenDir(root)
	s, err := Open(repo, opts)
	if err != nil {
		_ = closeRepo()
		_ = lock.Unlock()
		return nil, err
	}
	return &Disk{Session: s, root: root, lock: lock, close: closeRepo}, nil
}

// Root is the repo directory.
func (d *Disk) Root() string { return d.root }

// Close releases the lock and the repo directory.
func (d *Disk) Close() {
	_ = d.close()
	_ = d.lock.Unlock()
}

// StaleError refuses a change whose ground moved after it was planned:
// its file changed on disk or on the branch, the branch moved, or a
// selection no longer matches what the operator saw. Nothing was written;
// planning again on the current state may succeed.
type StaleError struct {
	// Reason says what moved, as a sentence an operator reads.
	Reason string
	// Err is the cause, when a lower layer reported it
	// (fsutil.ErrChangedOnDisk, say).
	Err error
}

func (e *StaleError) Error() string { return e.Reason }

func (e *StaleError) Unwrap() error { return e.Err }

// Write writes a checked change atomically, only if the file still holds
// what the change was planned on (else a *StaleError).
func (d *Disk) Write(c *Change) error {
	path := filepath.Join(d.root, filepath.FromSlash(c.File))
	if c.Created {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // #nosec G301 -- a repo directory the sidecar (often another user) must read
			return fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
	}
	if err := fsutil.ReplaceFileAtomic(path, c.Old, c.New, 0o644); err != nil {
		if errors.Is(err, fsutil.ErrChangedOnDisk) {
			return &StaleError{Reason: fmt.Sprintf("%s changed on disk while this command was editing it (by an editor or a tool that does not take the repo lock); run it again", c.File), Err: err}
		}
		return err
	}
	return nil
}
