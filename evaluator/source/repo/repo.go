// Package repo is the sidecar's source for a config repo directory: it
// loads the tree with the compiler (reusing unchanged files' results),
// names the content by git commit or content hash, and hands the store a
// snapshot built incrementally from the serving one. It is the one part of
// the sidecar that carries the parser; a bundle source carries none.
package repo

import (
	"context"
	"log/slog"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

// Loader loads a repo directory for a store.Store.
type Loader struct {
	root   string
	log    *slog.Logger
	limits promotions.Limits
	cache  *compiler.Cache
	git    gitRevision
	// snapCache, when set, keeps the last good snapshot as a bundle.
	snapCache *snapshotCache
	// loadedOnce is set once the repo itself has been loaded.
	loadedOnce bool
}

// NewLoader returns a loader for the repo at root. The zero Limits mean
// promotions.DefaultLimits.
func NewLoader(root string, limits promotions.Limits, log *slog.Logger) *Loader {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Loader{root: root, log: log, limits: limits, cache: compiler.NewCache()}
}

// Describe names the source.
func (l *Loader) Describe() string { return "repo " + l.root }

// Report names the source for status and metrics.
func (l *Loader) Report() store.SourceReport {
	return store.SourceReport{Kind: "repo", Location: l.root}
}

// Root is the directory the loader reads.
func (l *Loader) Root() string { return l.root }

// Load reads the repo. Only files whose content changed are parsed again;
// when only promotion files changed, only their cross-file checks run.
func (l *Loader) Load(context.Context) (*store.Loaded, error) {
	if c := l.snapCache; c != nil && (c.fromCache != nil || !l.loadedOnce) {
		if loaded := l.loadFromCache(); loaded != nil {
			return loaded, nil
		}
	}
	repo := compiler.OpenDir(l.root)
	defer repo.Close()
	res, err := compiler.Load(repo, compiler.Options{Cache: l.cache, Limits: l.limits})
	if err != nil {
		return nil, err
	}
	l.loadedOnce = true
	rev := l.git.resolve(l.root, res.ContentHash, l.log)
	loaded := &store.Loaded{
		Revision: rev.Revision, Commit: rev.Commit, Dirty: rev.Dirty, ContentHash: rev.ContentHash,
		Files: res.Files, Parsed: res.Parsed,
		Diagnostics: res.Diagnostics,
	}
	model := res.Model
	c := l.snapCache
	loaded.Build = func(prev *snapshot.Snapshot) (*snapshot.Snapshot, error) {
		if c != nil && prev != nil && prev.Model == c.fromCache {
			// The serving snapshot came from the cache: its objects are
			// not the compiler's, so the difference would be everything.
			prev = nil
		}
		snap, err := snapshot.Update(prev, model, rev.Revision)
		if err == nil && c != nil && model != nil {
			c.fromCache, c.loaded = nil, nil // let the cached model go
			c.write(model, rev, res.Bytes)
		}
		return snap, err
	}
	return loaded, nil
}
