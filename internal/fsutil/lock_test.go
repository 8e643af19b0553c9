package fsutil_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/fsutil"
)

func TestLockRepo(t *testing.T) {
	t.Run("a second holder waits, then times out with a clear error", func(t *testing.T) {
		root := t.TempDir()
		first, err := fsutil.LockRepo(root, time.Second)
		require.NoError(t, err)
		defer first.Unlock()

		_, err = fsutil.LockRepo(root, 50*time.Millisecond)
		require.ErrorIs(t, err, fsutil.ErrRepoLocked)
		assert.Contains(t, err.Error(), "another promoctl command is editing this repo")
		assert.Contains(t, err.Error(), "try again when it is done")
		assert.NotContains(t, err.Error(), "--", "the command names its own flag")
		assert.Contains(t, err.Error(), "process ")
	})
	t.Run("released locks can be taken again", func(t *testing.T) {
		root := t.TempDir()
		first, err := fsutil.LockRepo(root, time.Second)
		require.NoError(t, err)
		require.NoError(t, first.Unlock())
		second, err := fsutil.LockRepo(root, 0)
		require.NoError(t, err)
		require.NoError(t, second.Unlock())
	})
	t.Run("a waiter gets the lock once the holder releases it", func(t *testing.T) {
		root := t.TempDir()
		first, err := fsutil.LockRepo(root, time.Second)
		require.NoError(t, err)
		got := make(chan error, 1)
		go func() {
			l, err := fsutil.LockRepo(root, 10*time.Second)
			if err == nil {
				err = l.Unlock()
			}
			got <- err
		}()
		time.Sleep(30 * time.Millisecond)
		require.NoError(t, first.Unlock())
		require.NoError(t, <-got)
	})
	t.Run("the lock directory is ignored by git and by the loader", func(t *testing.T) {
		root := t.TempDir()
		l, err := fsutil.LockRepo(root, time.Second)
		require.NoError(t, err)
		defer l.Unlock()
		ignore, err := os.ReadFile(filepath.Join(root, fsutil.LockDir, ".gitignore"))
		require.NoError(t, err)
		assert.Equal(t, "# The repo lock of promoctl's editing commands: local to each checkout, never committed.\nlock\n", string(ignore))
		assert.Equal(t, byte('.'), fsutil.LockDir[0])
	})
	t.Run("a nil lock unlocks", func(t *testing.T) {
		var l *fsutil.RepoLock
		assert.NoError(t, l.Unlock())
	})
}

func TestReplaceFileAtomic(t *testing.T) {
	tests := []struct {
		name    string
		initial *string // nil: no file
		old     []byte
		wantErr bool
	}{
		{"the file still holds old", strptr("old"), []byte("old"), false},
		{"someone saved the file meanwhile", strptr("theirs"), []byte("old"), true},
		{"a new file that does not exist yet", nil, nil, false},
		{"a new file that someone created meanwhile", strptr("theirs"), nil, true},
		{"the file was deleted meanwhile", nil, []byte("old"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "p.yaml")
			if tt.initial != nil {
				require.NoError(t, os.WriteFile(path, []byte(*tt.initial), 0o644))
			}
			err := fsutil.ReplaceFileAtomic(path, tt.old, []byte("new"), 0o644)
			got, _ := os.ReadFile(path)
			if tt.wantErr {
				require.Error(t, err)
				if tt.initial != nil {
					require.ErrorIs(t, err, fsutil.ErrChangedOnDisk)
					assert.Equal(t, *tt.initial, string(got), "nothing written")
					assertOnlyFiles(t, dir, "p.yaml")
				} else {
					assertOnlyFiles(t, dir)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "new", string(got))
			assertOnlyFiles(t, dir, "p.yaml")
		})
	}
}

func strptr(s string) *string { return &s }

// TestLockRepoRefusesWhatItDidNotCreate: a committed lock link (to a file
// the command would otherwise truncate), a .promoctl link, a pipe or a
// device as the lock are refused with a clear message; the target keeps
// its content and nothing blocks.
func TestLockRepoRefusesWhatItDidNotCreate(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, root, victim string)
		wantIn string
	}{
		{"the lock is a link", func(t *testing.T, root, victim string) {
			require.NoError(t, os.MkdirAll(filepath.Join(root, fsutil.LockDir), 0o755))
			require.NoError(t, os.Symlink(victim, filepath.Join(root, fsutil.LockDir, "lock")))
		}, ".promoctl/lock is a link"},
		{"the lock is a dangling link", func(t *testing.T, root, victim string) {
			require.NoError(t, os.MkdirAll(filepath.Join(root, fsutil.LockDir), 0o755))
			require.NoError(t, os.Symlink(victim+".new", filepath.Join(root, fsutil.LockDir, "lock")))
		}, ".promoctl/lock is a link"},
		{"the lock directory is a link", func(t *testing.T, root, victim string) {
			require.NoError(t, os.Symlink(filepath.Dir(victim), filepath.Join(root, fsutil.LockDir)))
		}, ".promoctl is not a directory"},
		{"the lock is a named pipe", func(t *testing.T, root, _ string) {
			require.NoError(t, os.MkdirAll(filepath.Join(root, fsutil.LockDir), 0o755))
			require.NoError(t, syscall.Mkfifo(filepath.Join(root, fsutil.LockDir, "lock"), 0o600))
		}, ".promoctl/lock is not a regular file"},
		{"the lock is a link to a device", func(t *testing.T, root, _ string) {
			require.NoError(t, os.MkdirAll(filepath.Join(root, fsutil.LockDir), 0o755))
			require.NoError(t, os.Symlink("/dev/null", filepath.Join(root, fsutil.LockDir, "lock")))
		}, ".promoctl/lock is a link"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "repo")
			require.NoError(t, os.MkdirAll(root, 0o755))
			victim := filepath.Join(t.TempDir(), "lock")
			require.NoError(t, os.WriteFile(victim, []byte("precious\n"), 0o600))
			tt.setup(t, root, victim)

			l, err := fsutil.LockRepo(root, time.Second)
			require.ErrorIs(t, err, fsutil.ErrUnsafeLock)
			assert.Nil(t, l)
			assert.Contains(t, err.Error(), tt.wantIn)
			got, err := os.ReadFile(victim)
			require.NoError(t, err)
			assert.Equal(t, "precious\n", string(got))
			_, err = os.Stat(victim + ".new")
			assert.ErrorIs(t, err, os.ErrNotExist, "a dangling link's target is not created")
		})
	}
}
