package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions"
)

// maxReportedErrors bounds the diagnostics kept in the status: a repo
// broken in every file would otherwise make /v1/status huge.
const maxReportedErrors = 100

// Reload describes one reload attempt.
type Reload struct {
	At       time.Time
	OK       bool
	Duration time.Duration
	// Revision is the revision the attempt saw (empty when the tree could
	// not be read at all).
	Revision string
	// Files and Parsed count the config files and those re-parsed because
	// their content changed.
	Files, Parsed int
	// Errors are the validation errors (at most maxReportedErrors of
	// them); ErrorCount is how many there were in all.
	Errors     promotions.Diagnostics
	ErrorCount int
	// Err is set when the tree could not be read or the snapshot not built.
	Err string
}

// Status is what the store reports about itself. Every value is an
// immutable copy.
type Status struct {
	// Ready is true once a good snapshot serves.
	Ready bool
	// Revision identifies the serving snapshot: the git commit when the
	// config files equal those of HEAD, else ContentHash.
	Revision    string
	Commit      string // HEAD commit, when the repo is in a git checkout
	Dirty       bool   // the config files differ from HEAD's
	ContentHash string // hash of every config file's path and content
	LoadedAt    time.Time
	Counts      compiler.Counts
	// LastReload is the latest attempt that saw a change (nil before the
	// first); LastSuccess is when a snapshot was last swapped in.
	LastReload    *Reload
	LastSuccess   time.Time
	ReloadsOK     uint64
	ReloadsFailed uint64
}

// Store serves the current snapshot and reloads it from a directory.
type Store struct {
	root   string
	log    *slog.Logger
	cache  *compiler.Cache
	git    gitRevision
	loadFS func(root string) (*compiler.Result, error)

	snapshot atomic.Pointer[compiler.Snapshot]
	status   atomic.Pointer[Status]

	mu sync.Mutex // serialises reloads; queries never take it
	// seen is the revision of the last attempt, so that an unchanged tree
	// (a poll, an editor's swap file) neither rebuilds nor counts.
	seen     string
	seenOK   bool
	seenFail string
}

// New returns a store for the repo at root. It serves nothing until the
// first successful Reload.
// The zero Limits mean promotions.DefaultLimits.
func New(root string, log *slog.Logger, limits promotions.Limits) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cache := compiler.NewCache()
	s := &Store{root: root, log: log, cache: cache}
	s.loadFS = func(root string) (*compiler.Result, error) {
		return compiler.Load(os.DirFS(root), compiler.Options{Cache: cache, Limits: limits})
	}
	s.status.Store(&Status{})
	return s
}

// Root is the directory the store loads.
func (s *Store) Root() string { return s.root }

// Snapshot returns the serving snapshot, or nil before the first good load.
func (s *Store) Snapshot() *compiler.Snapshot { return s.snapshot.Load() }

// Status returns the current status.
func (s *Store) Status() Status { return *s.status.Load() }

// Outcome says what a Reload did.
type Outcome int

const (
	Unchanged Outcome = iota // same revision as the previous attempt
	Swapped                  // a new snapshot serves
	Failed                   // the repo is invalid or unreadable; the old snapshot serves
)

func (o Outcome) String() string {
	switch o {
	case Swapped:
		return "swapped"
	case Failed:
		return "failed"
	default:
		return "unchanged"
	}
}

// Reload loads the repo again and swaps in a new snapshot when it is valid
// and differs from the serving one. Concurrent calls run one after the
// other.
func (s *Store) Reload(ctx context.Context) Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ctx.Err() != nil {
		return Unchanged
	}
	start := time.Now()
	res, err := s.loadFS(s.root)
	if err != nil {
		return s.fail(start, &Reload{Err: err.Error()})
	}
	rev := s.git.resolve(s.root, res.Revision, s.log)
	if rev.Revision == s.seen && (s.seenOK == res.OK()) {
		return Unchanged
	}
	s.seen, s.seenOK, s.seenFail = rev.Revision, res.OK(), ""

	attempt := &Reload{Revision: rev.Revision, Files: res.Files, Parsed: res.Parsed}
	if !res.OK() {
		errs := res.Diagnostics.Errors()
		attempt.ErrorCount = len(errs)
		if len(errs) > maxReportedErrors {
			errs = errs[:maxReportedErrors]
		}
		attempt.Errors = errs
		return s.fail(start, attempt)
	}

	var snap *compiler.Snapshot
	if old := s.snapshot.Load(); old != nil && old.Model != nil && s.Status().ContentHash == rev.ContentHash {
		// Same content under a new name (a commit that touched nothing
		// here, or edits that made the tree equal HEAD): no rebuild.
		renamed := *old
		renamed.Revision = rev.Revision
		snap = &renamed
	} else {
		// Apply only what changed to the serving snapshot's tables, in
		// one write transaction; its readers keep their view.
		snap, err = compiler.Update(s.snapshot.Load(), res.Model, rev.Revision)
		if err != nil {
			attempt.Err = fmt.Sprintf("build snapshot: %v", err)
			return s.fail(start, attempt)
		}
	}

	s.snapshot.Store(snap)
	attempt.OK = true
	attempt.At = time.Now()
	attempt.Duration = attempt.At.Sub(start)
	st := s.Status()
	st.Ready = true
	st.Revision, st.Commit, st.Dirty, st.ContentHash = rev.Revision, rev.Commit, rev.Dirty, rev.ContentHash
	st.LoadedAt = attempt.At
	st.Counts = snap.Counts
	st.LastReload = attempt
	st.LastSuccess = attempt.At
	st.ReloadsOK++
	s.status.Store(&st)
	s.log.Info("reloaded",
		slog.String("revision", rev.Revision),
		slog.Bool("dirty", rev.Dirty),
		slog.Int("files", res.Files),
		slog.Int("parsed", res.Parsed),
		slog.Int("promotions", snap.Counts.Promotions),
		slog.Int("customers", snap.Counts.Customers),
		slog.Duration("duration", attempt.Duration))
	return Swapped
}

// fail records a failed attempt; the serving snapshot stays.
func (s *Store) fail(start time.Time, attempt *Reload) Outcome {
	if attempt.Err != "" && attempt.Revision == "" {
		// An unreadable tree: count it once per distinct error, not on
		// every poll while it stays unreadable.
		if s.seenFail == attempt.Err {
			return Unchanged
		}
		s.seen, s.seenOK, s.seenFail = "", false, attempt.Err
	}
	attempt.At = time.Now()
	attempt.Duration = attempt.At.Sub(start)
	st := s.Status()
	st.LastReload = attempt
	st.ReloadsFailed++
	s.status.Store(&st)

	attrs := []any{
		slog.String("revision", attempt.Revision),
		slog.Bool("serving_last_good", st.Ready),
		slog.String("serving_revision", st.Revision),
		slog.Int("errors", attempt.ErrorCount),
	}
	if attempt.Err != "" {
		attrs = append(attrs, slog.String("error", attempt.Err))
	}
	// Diagnostics name file, position and code; their messages quote
	// values from the config, so only the location is logged.
	for i, d := range attempt.Errors {
		if i == 10 {
			break
		}
		attrs = append(attrs, slog.String(fmt.Sprintf("error_%d", i), fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column, d.Code)))
	}
	s.log.Warn("reload failed; keeping the last good snapshot", attrs...)
	return Failed
}

// ErrNotReady is returned by callers that need a snapshot before the first
// good load.
var ErrNotReady = errors.New("no valid snapshot loaded yet")
