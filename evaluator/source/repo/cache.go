package repo

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/promotions"
)

// SnapshotCacheFile is the bundle of the last good snapshot in a cache
// directory.
const SnapshotCacheFile = "snapshot.bundle"

// snapshotCache keeps the bundle of the last good snapshot in a directory,
// so that a restarted sidecar whose repo has not changed starts from it
// instead of parsing everything again.
type snapshotCache struct {
	dir     string
	version string
	log     *slog.Logger

	// fromCache is the model served from the cache until the repo is
	// loaded for real; a snapshot built on it is replaced whole, not
	// updated (its objects are not the compiler's).
	fromCache *promotions.Model
	// contentHash is the repo's content hash when it was served from the
	// cache: while the repo still hashes the same, nothing is parsed.
	contentHash string
	loaded      *store.Loaded

	writes  sync.WaitGroup
	writeMu sync.Mutex
	writing bool          // a drain goroutine runs
	next    *pendingWrite // the latest snapshot not yet written
}

// WithSnapshotCache makes the loader start from the bundle of its last
// good snapshot in dir when the repo's content still matches it, and write
// that bundle after every good load. dir must be a directory only its
// owner can write (it is created, mode 0700, when missing): the cache is
// not signed. version is promoctl's: a bundle written by another version
// is not used, since the rules may differ.
func (l *Loader) WithSnapshotCache(dir, version string) (*Loader, error) {
	if err := fsutil.PrivateDir(dir); err != nil {
		return nil, &CacheDirError{Dir: dir, Err: err}
	}
	l.snapCache = &snapshotCache{dir: dir, version: version, log: l.log}
	return l, nil
}

// CacheDirError is a snapshot cache directory that cannot be used: it
// cannot be made, or others may write it.
type CacheDirError struct {
	Dir string
	Err error
}

func (e *CacheDirError) Error() string { return "snapshot cache directory: " + e.Err.Error() }

func (e *CacheDirError) Unwrap() error { return e.Err }

// Flush waits until cache writes in flight are done.
func (l *Loader) Flush() {
	if l.snapCache != nil {
		l.snapCache.writes.Wait()
	}
}

// loadFromCache serves the cached bundle when the repo's content equals the
// content it was built from; nil when it cannot (then the repo is loaded).
func (l *Loader) loadFromCache() *store.Loaded {
	c := l.snapCache
	repo := compiler.OpenDir(l.root)
	defer repo.Close()
	hash, _, err := compiler.ContentHash(repo, l.limits)
	if err != nil {
		return nil
	}
	if c.fromCache != nil {
		if hash != c.contentHash {
			return nil // changed since: load it for real
		}
		return c.loaded // unchanged: the store sees the same revision
	}
	path := filepath.Join(c.dir, SnapshotCacheFile)
	data, err := os.ReadFile(path) // #nosec G304 -- inside the operator's private --cache-dir
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			c.log.Warn("snapshot cache unreadable", slog.String("error", err.Error()))
		}
		return nil
	}
	b, err := bundle.Verify(data, bundle.Options{})
	switch {
	case err != nil:
		c.log.Warn("snapshot cache refused", slog.String("path", path), slog.String("error", err.Error()))
		return nil
	case b.Header.ContentHash != hash || b.Header.Promoctl != c.version:
		c.log.Info("snapshot cache is of other content or another promoctl; loading the repo",
			slog.String("cache", b.Header.ContentHash), slog.String("repo", hash))
		return nil
	}
	if b, err = bundle.Decode(data, bundle.Options{}); err != nil {
		c.log.Warn("snapshot cache refused", slog.String("path", path), slog.String("error", err.Error()))
		return nil
	}
	c.fromCache, c.contentHash = b.Model, hash
	rev := l.git.resolve(l.root, hash, l.log)
	c.log.Info("starting from the snapshot cache", slog.String("path", path), slog.String("revision", rev.Revision))
	c.loaded = &store.Loaded{
		Revision: rev.Revision, Commit: rev.Commit, Dirty: rev.Dirty, ContentHash: hash,
		Build: func(*snapshot.Snapshot) (*snapshot.Snapshot, error) { return b.Snapshot(rev.Revision) },
	}
	return c.loaded
}

// write stores the bundle of a good snapshot in the background: encoding
// a large repo takes a second, which a reload should not wait for. Writes
// coalesce: while one runs, only the latest model waits for its turn.
func (c *snapshotCache) write(m *promotions.Model, rev revision, sourceBytes int64) {
	c.writeMu.Lock()
	c.next = &pendingWrite{model: m, rev: rev, sourceBytes: sourceBytes}
	start := !c.writing
	c.writing = true
	c.writeMu.Unlock()
	if start {
		c.writes.Add(1)
		go c.drain()
	}
}

type pendingWrite struct {
	model       *promotions.Model
	rev         revision
	sourceBytes int64
}

func (c *snapshotCache) drain() {
	defer c.writes.Done()
	for {
		c.writeMu.Lock()
		w := c.next
		c.next = nil
		if w == nil {
			c.writing = false
			c.writeMu.Unlock()
			return
		}
		c.writeMu.Unlock()
		data, err := bundle.Encode(w.model, bundle.Header{
			Promoctl: c.version, Revision: w.rev.Revision, Commit: w.rev.Commit, Dirty: w.rev.Dirty,
			ContentHash: w.rev.ContentHash, CommitTime: w.rev.CommitTime, SourceBytes: w.sourceBytes,
		}, nil)
		if err == nil {
			err = fsutil.WriteFileAtomic(filepath.Join(c.dir, SnapshotCacheFile), data, 0o600)
		}
		if err != nil {
			c.log.Warn("could not write the snapshot cache", slog.String("error", err.Error()))
		}
	}
}
