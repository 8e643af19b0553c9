package fsutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// LockIgnore is the .gitignore of LockDir: the lock is local to each
// checkout, while the rest of the directory (init's schema.json) is
// committed. init, examples/acme and generated repos ship it.
const LockIgnore = "# The repo lock of promoctl's editing commands: local to each checkout, never committed.\nlock\n"

// LockDir is the directory of a config repo where promoctl keeps its own
// state. Its name starts with a dot, so the loader never reads it.
const LockDir = ".promoctl"

// ErrRepoLocked is returned when another process holds a repo's lock for
// longer than the caller was willing to wait.
var ErrRepoLocked = errors.New("another promoctl command is editing this repo")

// ErrUnsafeLock is returned when the repo's lock file, or its directory,
// is not what promoctl creates: a link, a pipe, a device.
var ErrUnsafeLock = errors.New("refusing the repo lock")

// isLinkRefusal reports whether path is a symbolic link, which the lock
// open refuses to follow.
func isLinkRefusal(path string) bool {
	info, err := os.Lstat(path)
	return err == nil && info.Mode()&os.ModeSymlink != 0
}

// RepoLock is an exclusive lock on a config repo. An editing command holds
// it from loading the repo to writing its change, so that two commands run
// at once never both edit the same starting content: the second waits and
// then sees the first one's result. The operating system releases it when
// the process ends, however it ends, so a killed command leaves no stale
// lock behind.
type RepoLock struct {
	f    *os.File
	path string
}

// lockPoll is how often a waiting LockRepo tries again.
const lockPoll = 10 * time.Millisecond

// LockRepo takes the lock of the repo at root (the file .promoctl/lock,
// created on first use along with a .gitignore that keeps the directory
// out of commits), waiting at most timeout for another holder to finish.
func LockRepo(root string, timeout time.Duration) (*RepoLock, error) {
	dir := filepath.Join(root, LockDir)
	if err := os.Mkdir(dir, 0o750); err == nil {
		// Best effort: the lock works without it.
		_ = os.WriteFile(filepath.Join(dir, ".gitignore"), []byte(LockIgnore), 0o600)
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("lock %s: %w", root, err)
	}
	// A repo is someone else's content: a committed .promoctl link, or a
	// lock that is a link, a pipe or a device, must not make the command
	// write (truncate) what it leads to, nor block it.
	if info, err := os.Lstat(dir); err != nil {
		return nil, fmt.Errorf("lock %s: %w", root, err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a directory (a link?); remove it and run the command again", ErrUnsafeLock, LockDir)
	}
	path := filepath.Join(dir, "lock")
	f, err := openLockFile(path)
	if err != nil {
		if isLinkRefusal(path) {
			return nil, fmt.Errorf("%w: %s is a link; remove it and run the command again", ErrUnsafeLock, filepath.Join(LockDir, "lock"))
		}
		return nil, fmt.Errorf("lock %s: %w", root, err)
	}
	if info, err := f.Stat(); err != nil || !info.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%w: %s is not a regular file; remove it and run the command again", ErrUnsafeLock, filepath.Join(LockDir, "lock"))
	}
	deadline := time.Now().Add(timeout)
	for {
		locked, err := tryLock(f)
		if err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if locked {
			break
		}
		if !time.Now().Before(deadline) {
			holder := readHolder(f)
			_ = f.Close()
			return nil, fmt.Errorf("%w (%s held by %s for more than %s); try again when it is done",
				ErrRepoLocked, filepath.Join(LockDir, "lock"), holder, timeout)
		}
		time.Sleep(lockPoll)
	}
	// Record the holder for the message a waiting command prints.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &RepoLock{f: f, path: path}, nil
}

func readHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	if pid := strings.TrimSpace(string(buf[:n])); pid != "" {
		return "process " + pid
	}
	return "another process"
}

// Unlock releases the lock. It is safe to call on a nil lock.
func (l *RepoLock) Unlock() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}
