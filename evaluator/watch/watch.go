// Package watch turns file-system changes under a config repo into reloads.
// fsnotify is not recursive, so every directory is watched on its own and
// the set is recomputed before each reload (new directories added, removed
// ones dropped). The parent of the root is watched too, which is how a root
// that is a symlink (git-sync) is seen to move, and the root itself carries
// the `..data` swaps of Kubernetes ConfigMap volumes. Bursts of events are
// coalesced (debounce) and an optional poll rescans file systems without
// inotify.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Options tune a watcher.
type Options struct {
	// Debounce is how long the tree must stay quiet before a reload
	// (default 200 ms).
	Debounce time.Duration
	// MaxWait bounds how long a steady stream of events can defer a reload
	// (default 10 × Debounce).
	MaxWait time.Duration
	// Poll, when positive, also triggers a reload at this interval; the
	// reload is a no-op when the content revision is unchanged.
	Poll time.Duration
	Log  *slog.Logger
}

// DefaultDebounce is the quiet period before a reload.
const DefaultDebounce = 200 * time.Millisecond

// fallbackPoll is used when inotify is unavailable and no poll was asked for.
const fallbackPoll = 5 * time.Second

const maxDepth = 32

// Run watches root and calls reload once at start and then after every
// (coalesced) change, until ctx is done. reload runs on one goroutine, never
// concurrently with itself; events keep being drained while it runs.
func Run(ctx context.Context, root string, reload func(context.Context), opts Options) error {
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 10 * opts.Debounce
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("watch %s: %w", root, err)
	}
	w := &watcher{root: abs, opts: opts, log: opts.Log, watched: map[string]bool{}, kick: make(chan struct{}, 1)}

	if parent, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil && parent != abs {
		w.parentDir = parent
	}

	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		if opts.Poll <= 0 {
			opts.Poll = fallbackPoll
			w.opts.Poll = fallbackPoll
		}
		w.log.Warn("file events unavailable; polling instead", slog.String("error", err.Error()), slog.String("poll", opts.Poll.String()))
	} else {
		w.fsw = fsw
		defer fsw.Close()
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-w.kick:
				w.sync()
				reload(ctx)
			}
		}
	}()
	w.trigger()
	w.loop(ctx)
	<-done
	return nil
}

type watcher struct {
	root string // absolute, possibly a symlink
	// parentDir is the resolved parent of root, watched for swaps of the
	// root link itself; empty when root has no parent of its own.
	parentDir string
	opts      Options
	log       *slog.Logger
	fsw       *fsnotify.Watcher
	watched   map[string]bool // only touched by the reload goroutine
	kick      chan struct{}
	warned    bool
}

// trigger asks for a reload; requests made while one is pending merge.
func (w *watcher) trigger() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *watcher) loop(ctx context.Context) {
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w.fsw != nil {
		events, errs = w.fsw.Events, w.fsw.Errors
	}
	var poll <-chan time.Time
	if w.opts.Poll > 0 {
		t := time.NewTicker(w.opts.Poll)
		defer t.Stop()
		poll = t.C
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	defer debounce.Stop()
	var firstEvent time.Time // zero when no change is pending

	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			if !w.relevant(ev) {
				continue
			}
			now := time.Now()
			if firstEvent.IsZero() {
				firstEvent = now
			}
			wait := w.opts.Debounce
			if left := firstEvent.Add(w.opts.MaxWait).Sub(now); left < wait {
				wait = max(left, 0)
			}
			debounce.Reset(wait)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			// An overflow loses events: only a full reload is safe.
			w.log.Warn("file watch error; reloading", slog.String("error", err.Error()))
			w.trigger()
		case <-debounce.C:
			firstEvent = time.Time{}
			w.trigger()
		case <-poll:
			w.trigger()
		}
	}
}

// relevant filters out events that cannot change the config: attribute
// changes, dot files other than the ConfigMap `..data` link, and siblings
// of the root in its parent directory.
func (w *watcher) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	name := filepath.Base(ev.Name)
	if w.parentDir != "" && filepath.Dir(ev.Name) == w.parentDir {
		return name == filepath.Base(w.root)
	}
	return !strings.HasPrefix(name, ".") || name == "..data"
}

// sync makes the watch set equal to the tree's directories as they are now.
func (w *watcher) sync() {
	if w.fsw == nil {
		return
	}
	want := map[string]bool{}
	if w.parentDir != "" {
		want[w.parentDir] = true
	}
	if real, err := filepath.EvalSymlinks(w.root); err == nil {
		collectDirs(real, real, 0, want)
	}
	for dir := range w.watched {
		if !want[dir] {
			// Already gone when the directory was removed; not an error.
			_ = w.fsw.Remove(dir)
			delete(w.watched, dir)
		}
	}
	for dir := range want {
		if w.watched[dir] {
			continue
		}
		if err := w.fsw.Add(dir); err != nil {
			if !errors.Is(err, os.ErrNotExist) && !w.warned {
				w.warned = true
				w.log.Warn("cannot watch a directory; changes there are seen only by polling", slog.String("dir", dir), slog.String("error", err.Error()), slog.Duration("poll", w.opts.Poll))
			}
			continue
		}
		w.watched[dir] = true
	}
}

// collectDirs adds dir and every directory below it (following symlinks
// that stay inside root, skipping dot directories as the loader does) by
// resolved path. A link out of the repo is not loaded, so not watched.
func collectDirs(root, dir string, depth int, into map[string]bool) {
	if depth > maxDepth || into[dir] {
		return
	}
	into[dir] = true
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		switch {
		case e.IsDir():
			collectDirs(root, p, depth+1, into)
		case e.Type()&os.ModeSymlink != 0:
			real, err := filepath.EvalSymlinks(p)
			if err != nil || !inside(root, real) {
				continue
			}
			if info, err := os.Stat(real); err == nil && info.IsDir() {
				collectDirs(root, real, depth+1, into)
			}
		}
	}
}

// inside reports whether path lies in root (both resolved).
func inside(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
