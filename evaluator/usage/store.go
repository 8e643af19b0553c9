package usage

import (
	"context"
	"time"
)

// Scope is whose usage a request is about. Every counter and idempotency
// key of one customer's feature shares a scope (in Redis, one hash slot).
type Scope struct {
	// Namespace separates deployments sharing a store ("promoctl" unless
	// configured).
	Namespace string
	Customer  string
	Feature   string
}

// ConsumeRequest is a consume (or, with DryRun, a check) at the store's
// clock.
type ConsumeRequest struct {
	Scope
	// Key is the idempotency key; BodyHash identifies the request body it
	// was first used with. Both are empty for a check.
	Key      string
	BodyHash string
	Amount   int64
	Overage  Overage
	// Buckets are the buckets at the caller's instant; suspended ones are
	// never consumed from. When their periods do not hold at the store's
	// clock the store answers a *StaleError and records nothing.
	Buckets []Bucket
	// DryRun computes the answer and writes nothing.
	DryRun bool
}

// Recorded is the first result of a consume, kept under its idempotency
// key: a duplicate answers it again, a release gives its takes back.
type Recorded struct {
	BodyHash  string
	Outcome   Outcome
	Amount    int64
	Takes     []Take
	Overage   int64
	Remaining int64
	Unlimited bool
	At        time.Time
	Released  bool
}

// Duplicate is the answer to a consume whose key is recorded with the same
// body: the first result again, whichever store recorded it.
func (rec Recorded) Duplicate() ConsumeResult {
	return ConsumeResult{
		Plan:      Plan{Outcome: OutcomeDuplicate, Allowed: true, Takes: rec.Takes, Overage: rec.Overage},
		Amount:    rec.Amount,
		Remaining: rec.Remaining,
		Unlimited: rec.Unlimited,
		Now:       rec.At,
		First:     &rec,
	}
}

// ConsumeResult is a store's answer to a consume or check.
type ConsumeResult struct {
	Plan
	Amount int64
	// Used is each active request bucket's counter after the consume
	// (before it, for a denial or a check), aligned with
	// ConsumeRequest.Buckets; suspended buckets are not read (0).
	Used      []int64
	Remaining int64
	Unlimited bool
	// Now is the store's clock when it decided.
	Now time.Time
	// First is the recorded first result when Outcome is duplicate.
	First *Recorded
}

// ReleaseOutcome is what a release did.
type ReleaseOutcome string

// Outcomes of a release.
const (
	ReleaseReleased     ReleaseOutcome = "released"
	ReleaseNotFound     ReleaseOutcome = "not_found"
	ReleasePeriodClosed ReleaseOutcome = "period_closed"
)

// ReleaseRequest gives a recorded consume back.
type ReleaseRequest struct {
	Scope
	Key string
}

// ReleaseResult is a store's answer to a release.
type ReleaseResult struct {
	Outcome ReleaseOutcome
	// Amount is what was given back; To lists it per bucket.
	Amount int64
	To     []Take
	// Again is a release of a consume that was already released: nothing
	// changed.
	Again bool
}

// Store keeps counters and idempotency records and applies consumes
// atomically: no two consumes of one scope see the same counters.
type Store interface {
	// Consume decides and records a consume (or answers a check).
	Consume(ctx context.Context, req ConsumeRequest) (ConsumeResult, error)
	// Release gives a recorded consume back to the buckets whose periods
	// are open at the store's clock.
	Release(ctx context.Context, req ReleaseRequest) (ReleaseResult, error)
	// Used reads the counters of buckets' current periods (suspended
	// buckets included), aligned with buckets.
	Used(ctx context.Context, scope Scope, buckets []Bucket) ([]int64, error)
	// Replay records, once, a consume that was answered while the store was
	// unreachable: its takes are added unless its key is already recorded.
	// It reports whether they were added. A key already recorded with the
	// same body, not released, but other takes is a consume that reached
	// the store while its answer timed out: the client was answered rec,
	// so the counters are moved from the recorded takes to rec's and rec
	// becomes the key's record (not reported as added).
	Replay(ctx context.Context, scope Scope, key string, rec Recorded) (bool, error)
	// Now is the store's clock.
	Now(ctx context.Context) (time.Time, error)
	// Name says which store this is ("embedded", "redis").
	Name() string
	Close() error
}

// Settings common to stores.
const (
	// DefaultRetention keeps a counter this long after its period ends, so
	// reads with a past `at` still answer.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultIdempotencyTTL keeps an idempotency key this long.
	DefaultIdempotencyTTL = 10 * time.Minute
	// DefaultNamespace prefixes every key.
	DefaultNamespace = "promoctl"
)

// Spooled is a consume answered while the shared store was unreachable,
// waiting to be replayed.
type Spooled struct {
	Scope  Scope
	Key    string
	Record Recorded
}

// Spool keeps consumes answered while the shared store was unreachable, on
// the sidecar's disk, until they are replayed.
type Spool interface {
	// Spool keeps rec durably; a key spooled twice keeps its first record.
	Spool(sc Scope, key string, rec Recorded) error
	// Spooled is the record spooled under sc and key, if any.
	Spooled(sc Scope, key string) (Recorded, bool, error)
	// Pending lists up to limit spooled consumes.
	Pending(limit int) ([]Spooled, error)
	// Unspool forgets a replayed consume.
	Unspool(sc Scope, key string) error
	// SpoolLen is how many consumes wait.
	SpoolLen() int
}
