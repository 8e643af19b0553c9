package bolt

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/promoctl/promoctl/evaluator/usage"
)

// Lazy is the embedded store opened on first use: a sidecar that never
// meters touches no file, and one whose file cannot be opened (another
// sidecar holds it, the disk is read-only) keeps serving decisions while
// usage answers as a failed store — by each feature's on_store_failure —
// and the open is tried again at most once a second.
type Lazy struct {
	dir  string
	opts Options

	mu       sync.Mutex
	store    *Store
	lastErr  error
	nextTry  time.Time
	openLock time.Duration
}

// NewLazy returns the store of dir, not yet opened.
func NewLazy(dir string, opts Options) *Lazy {
	return &Lazy{dir: dir, opts: opts, openLock: 100 * time.Millisecond}
}

// open returns the open store, opening it when due.
func (l *Lazy) open() (*Store, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store != nil {
		return l.store, nil
	}
	if now := time.Now(); now.Before(l.nextTry) {
		return nil, fmt.Errorf("%w: %w", usage.ErrUnavailable, l.lastErr)
	}
	s, err := open(l.dir, l.opts, l.openLock)
	if err != nil {
		l.lastErr, l.nextTry = err, time.Now().Add(time.Second)
		return nil, fmt.Errorf("%w: %w", usage.ErrUnavailable, err)
	}
	l.store = s
	return s, nil
}

// Err is the last failure to open the store, nil once it is open.
func (l *Lazy) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store != nil {
		return nil
	}
	return l.lastErr
}

// Name is "embedded".
func (l *Lazy) Name() string { return "embedded" }

// Close closes the store if it was opened.
func (l *Lazy) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.store == nil {
		return nil
	}
	return l.store.Close()
}

// Consume opens the store if needed and consumes.
func (l *Lazy) Consume(ctx context.Context, req usage.ConsumeRequest) (usage.ConsumeResult, error) {
	s, err := l.open()
	if err != nil {
		return usage.ConsumeResult{}, err
	}
	return s.Consume(ctx, req)
}

// Release opens the store if needed and releases.
func (l *Lazy) Release(ctx context.Context, req usage.ReleaseRequest) (usage.ReleaseResult, error) {
	s, err := l.open()
	if err != nil {
		return usage.ReleaseResult{}, err
	}
	return s.Release(ctx, req)
}

// Used opens the store if needed and reads counters.
func (l *Lazy) Used(ctx context.Context, sc usage.Scope, buckets []usage.Bucket) ([]int64, error) {
	s, err := l.open()
	if err != nil {
		return nil, err
	}
	return s.Used(ctx, sc, buckets)
}

// Replay opens the store if needed and replays.
func (l *Lazy) Replay(ctx context.Context, sc usage.Scope, key string, rec usage.Recorded) (bool, error) {
	s, err := l.open()
	if err != nil {
		return false, err
	}
	return s.Replay(ctx, sc, key, rec)
}

// Now is the sidecar's clock.
func (l *Lazy) Now(ctx context.Context) (time.Time, error) {
	if l.opts.Clock != nil {
		return l.opts.Clock().UTC(), nil
	}
	return time.Now().UTC(), nil
}

var _ usage.Store = (*Lazy)(nil)
