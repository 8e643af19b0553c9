package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

// A Loader reads the source a store serves: a repo directory, a bundle.
// The store never parses anything itself, so a sidecar or an embedded
// provider that reads bundles carries no parser.
type Loader interface {
	// Load reads the source once more. It reports what it saw; the store
	// decides whether to build (see Loaded.Build).
	Load(ctx context.Context) (*Loaded, error)
	// Describe names the source for logs and status ("repo examples/acme").
	Describe() string
}

// Loaded is what one Load saw.
type Loaded struct {
	// Revision identifies the content: equal revisions are not rebuilt.
	Revision string
	// Commit, Dirty and ContentHash describe the revision for status:
	// the git commit when there is one, whether the files differ from it,
	// and the hash of the content itself. A new Revision whose ContentHash
	// equals the serving one's is the same content under a new name: the
	// serving snapshot is renamed instead of rebuilt.
	Commit      string
	Dirty       bool
	ContentHash string
	// Files and Parsed count the files read and those parsed afresh.
	Files, Parsed int
	// Diagnostics are the validation findings: with any error, nothing is
	// built.
	Diagnostics promotions.Diagnostics
	// Bundle describes the bundle the content came from (nil for a repo).
	Bundle *BundleInfo
	// Build makes the snapshot. prev is the serving snapshot (nil before
	// the first), which Build may update incrementally: memdb transactions
	// leave prev's readers their view.
	Build func(prev *snapshot.Snapshot) (*snapshot.Snapshot, error)
}

// BundleInfo describes a serving bundle.
type BundleInfo struct {
	// Time is the commit time in the bundle's header (zero without one).
	Time time.Time
	// SignedBy is the key that signed it ("" unsigned) and Verified
	// whether that signature was checked against the verify key.
	SignedBy string
	Verified bool
	// Hash is the bundle's SHA-256.
	Hash string
}

// Reporter is implemented by loaders that can say more about their
// source than its name: a bundle source reports its last fetch.
type Reporter interface {
	Report() SourceReport
}

// SourceReport is what a loader says about its source, live.
type SourceReport struct {
	// Kind is "repo", "bundle file" or "bundle url"; Location the path
	// or URL.
	Kind     string
	Location string
	// VerifyKey names the key bundles must be signed with ("" none).
	VerifyKey string
	// LastFetch is the latest download attempt of a bundle URL (nil
	// before the first, and for other sources); FetchesOK and
	// FetchesFailed count them.
	LastFetch     *Fetch
	FetchesOK     uint64
	FetchesFailed uint64
}

// Fetch is one download attempt of a bundle URL.
type Fetch struct {
	At       time.Time
	OK       bool
	Duration time.Duration
	// NotModified is true when the server answered 304.
	NotModified bool
	Error       string
}

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
	Counts      snapshot.Counts
	// LastReload is the latest attempt that saw a change (nil before the
	// first); LastSuccess is when a snapshot was last swapped in.
	LastReload    *Reload
	LastSuccess   time.Time
	ReloadsOK     uint64
	ReloadsFailed uint64
	// Bundle describes the serving bundle, when the source is one.
	Bundle *BundleInfo
	// Source is the loader's own report, read when Status is called.
	Source SourceReport
}

// Store serves the current snapshot and reloads it from its loader.
type Store struct {
	loader Loader
	log    *slog.Logger

	snapshot atomic.Pointer[snapshot.Snapshot]
	status   atomic.Pointer[Status]

	mu sync.Mutex // serialises reloads; queries never take it
	// seen is the revision of the last attempt, so that an unchanged tree
	// (a poll, an editor's swap file) neither rebuilds nor counts.
	seen     string
	seenOK   bool
	seenFail string
}

// New returns a store that serves what loader reads. It serves nothing
// until the first successful Reload.
func New(loader Loader, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Store{loader: loader, log: log}
	s.status.Store(&Status{})
	return s
}

// Source names what the store loads.
func (s *Store) Source() string { return s.loader.Describe() }

// Snapshot returns the serving snapshot, or nil before the first good load.
func (s *Store) Snapshot() *snapshot.Snapshot { return s.snapshot.Load() }

// Status returns the current status.
func (s *Store) Status() Status {
	st := s.current()
	if r, ok := s.loader.(Reporter); ok {
		st.Source = r.Report()
	} else {
		st.Source = SourceReport{Location: s.loader.Describe()}
	}
	return st
}

func (s *Store) current() Status { return *s.status.Load() }

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
	rev, err := s.loader.Load(ctx)
	if err != nil {
		return s.fail(start, &Reload{Err: err.Error()})
	}
	ok := !rev.Diagnostics.HasErrors()
	if rev.Revision == s.seen && s.seenOK == ok {
		return Unchanged
	}
	s.seen, s.seenOK, s.seenFail = rev.Revision, ok, ""

	attempt := &Reload{Revision: rev.Revision, Files: rev.Files, Parsed: rev.Parsed}
	if !ok {
		errs := rev.Diagnostics.Errors()
		attempt.ErrorCount = len(errs)
		if len(errs) > maxReportedErrors {
			errs = errs[:maxReportedErrors]
		}
		attempt.Errors = errs
		return s.fail(start, attempt)
	}

	var snap *snapshot.Snapshot
	if old := s.snapshot.Load(); old != nil && rev.ContentHash != "" && s.current().ContentHash == rev.ContentHash {
		// Same content under a new name (a commit that touched nothing
		// here, or edits that made the tree equal HEAD): no rebuild.
		renamed := *old
		renamed.Revision = rev.Revision
		snap = &renamed
	} else {
		snap, err = rev.Build(s.snapshot.Load())
		if err != nil {
			attempt.Err = fmt.Sprintf("build snapshot: %v", err)
			return s.fail(start, attempt)
		}
	}

	s.snapshot.Store(snap)
	attempt.OK = true
	attempt.At = time.Now()
	attempt.Duration = attempt.At.Sub(start)
	st := s.current()
	st.Ready = true
	st.Bundle = rev.Bundle
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
		slog.Int("files", rev.Files),
		slog.Int("parsed", rev.Parsed),
		slog.Int("promotions", snap.Counts.Promotions),
		slog.Int("customers", snap.Counts.Customers),
		slog.String("duration", attempt.Duration.String()))
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
	st := s.current()
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
	if st.Ready {
		s.log.Warn("reload failed; keeping the last good snapshot", attrs...)
	} else {
		s.log.Warn("reload failed; no snapshot serves yet", attrs...)
	}
	return Failed
}

// ErrNotReady is returned by callers that need a snapshot before the first
// good load.
var ErrNotReady = errors.New("no valid snapshot loaded yet")
