package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bbolt "go.etcd.io/bbolt"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/promoctl/promoctl/evaluator/usage"
)

// FileName is the store's file inside the data directory.
const FileName = "usage.db"

var (
	counters = []byte("counters") // scope \x00 counter → count, expiry ms
	records  = []byte("keys")     // scope \x00 key → expiry ms, record line
	spool    = []byte("spool")    // scope \x00 key → record line
)

// Options configure a Store. Zero values take the defaults.
type Options struct {
	Namespace      string
	Retention      time.Duration
	IdempotencyTTL time.Duration
	// Clock is the store's clock (time.Now); tests move it.
	Clock func() time.Time
	// SweepEvery is how often expired counters and keys are deleted
	// (default one minute; negative: never, for tests).
	SweepEvery time.Duration
}

// Store is the embedded usage store.
type Store struct {
	db *bbolt.DB
	// writes share commits: many sidecar goroutines consume at once, and
	// one fsync acknowledges them all.
	writes *groupCommit
	opts   Options
	stop   chan struct{}
	done   sync.WaitGroup
}

// ErrLocked is a store file another process holds open: each process
// needs a data directory of its own.
var ErrLocked = errors.New("another process holds the file")

// Open opens (creating it and the directory) the store file in dir. It
// waits up to 2 s for another process holding the file to let go.
func Open(dir string, opts Options) (*Store, error) {
	return open(dir, opts, 2*time.Second)
}

func open(dir string, opts Options, lockWait time.Duration) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("usage data directory %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockWait})
	if err != nil {
		if errors.Is(err, bberrors.ErrTimeout) {
			err = ErrLocked
		}
		return nil, fmt.Errorf("open usage store %s: %w", path, err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{counters, records, spool} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open usage store %s: %w", path, err)
	}
	if opts.Namespace == "" {
		opts.Namespace = usage.DefaultNamespace
	}
	if opts.Retention == 0 {
		opts.Retention = usage.DefaultRetention
	}
	if opts.IdempotencyTTL == 0 {
		opts.IdempotencyTTL = usage.DefaultIdempotencyTTL
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.SweepEvery == 0 {
		opts.SweepEvery = time.Minute
	}
	s := &Store{db: db, writes: &groupCommit{db: db}, opts: opts, stop: make(chan struct{})}
	if opts.SweepEvery > 0 {
		s.done.Add(1)
		go s.sweepLoop()
	}
	return s, nil
}

// Path is the store's file.
func (s *Store) Path() string { return s.db.Path() }

// Name is "embedded".
func (s *Store) Name() string { return "embedded" }

// Close stops the sweeper and closes the file.
func (s *Store) Close() error {
	close(s.stop)
	s.done.Wait()
	return s.db.Close()
}

// Now is the sidecar's clock.
func (s *Store) Now(context.Context) (time.Time, error) { return s.opts.Clock().UTC(), nil }

func (s *Store) scopeKey(sc usage.Scope, name string) []byte {
	ns := sc.Namespace
	if ns == "" {
		ns = s.opts.Namespace
	}
	return []byte(ns + "|" + sc.Customer + "|" + sc.Feature + "\x00" + name)
}

func (s *Store) counterExpiry(end time.Time) int64 {
	if end.IsZero() {
		return 0
	}
	return end.Add(s.opts.Retention).UnixMilli()
}

// readCounter is a counter's value, 0 when absent or expired at now.
func readCounter(b *bbolt.Bucket, key []byte, now time.Time) int64 {
	v := b.Get(key)
	if len(v) != 16 {
		return 0
	}
	if exp := int64(binary.BigEndian.Uint64(v[8:])); exp != 0 && now.UnixMilli() >= exp { // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
		return 0
	}
	return int64(binary.BigEndian.Uint64(v)) // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
}

func writeCounter(b *bbolt.Bucket, key []byte, n, expiry int64) error {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(max(n, 0)))
	binary.BigEndian.PutUint64(v[8:], uint64(expiry)) // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
	return b.Put(key, v)
}

// readRecord is the record under key, unless absent or expired at now.
func readRecord(b *bbolt.Bucket, key []byte, now time.Time) (usage.Recorded, bool, error) {
	v := b.Get(key)
	if len(v) < 8 || now.UnixMilli() >= int64(binary.BigEndian.Uint64(v)) { // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
		return usage.Recorded{}, false, nil
	}
	rec, err := usage.DecodeRecord(string(v[8:]))
	return rec, err == nil, err
}

func writeRecord(b *bbolt.Bucket, key []byte, rec usage.Recorded, expiry int64) error {
	v := make([]byte, 8, 160)
	binary.BigEndian.PutUint64(v, uint64(expiry)) // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
	return b.Put(key, usage.AppendRecord(v, rec))
}

// Consume decides and records a consume in one durable transaction.
func (s *Store) Consume(_ context.Context, req usage.ConsumeRequest) (usage.ConsumeResult, error) {
	var (
		res usage.ConsumeResult
		err error
	)
	run := func(tx *bbolt.Tx) error {
		res, err = s.consume(tx, req)
		// A refusal is an answer, not a failed transaction: only a
		// write error rolls the batch back.
		if err != nil && !errors.Is(err, errWrite) {
			return nil
		}
		return err
	}
	var txErr error
	if req.DryRun {
		txErr = s.db.View(run)
	} else {
		txErr = s.writes.update(run)
	}
	if txErr != nil {
		return usage.ConsumeResult{}, fmt.Errorf("consume: %w: %w", usage.ErrUnavailable, txErr)
	}
	return res, err
}

var errWrite = errors.New("write")

func (s *Store) consume(tx *bbolt.Tx, req usage.ConsumeRequest) (usage.ConsumeResult, error) {
	now := s.opts.Clock().UTC()
	recs := tx.Bucket(records)
	idem := s.scopeKey(req.Scope, req.Key)
	if !req.DryRun {
		rec, ok, err := readRecord(recs, idem, now)
		if err != nil {
			return usage.ConsumeResult{}, fmt.Errorf("consume: %w", err)
		}
		if ok {
			if rec.BodyHash != req.BodyHash {
				return usage.ConsumeResult{}, usage.ErrKeyReused
			}
			return rec.Duplicate(), nil
		}
	}
	if usage.Stale(req.Buckets, now) {
		return usage.ConsumeResult{}, &usage.StaleError{Now: now}
	}
	cb := tx.Bucket(counters)
	used := make([]int64, len(req.Buckets))
	for i, b := range req.Buckets {
		if !b.Suspended {
			used[i] = readCounter(cb, s.scopeKey(req.Scope, b.Counter()), now)
		}
	}
	res := usage.ConsumeResult{Plan: usage.Consume(req.Buckets, used, req.Amount, req.Overage), Amount: req.Amount, Used: used, Now: now}
	if res.Allowed && !req.DryRun {
		for _, t := range res.Takes {
			for i, b := range req.Buckets {
				if b.ID == t.Bucket && !b.Suspended {
					used[i] += t.Amount
					if err := writeCounter(cb, s.scopeKey(req.Scope, b.Counter()), used[i], s.counterExpiry(b.PeriodEnd)); err != nil {
						return usage.ConsumeResult{}, fmt.Errorf("%w: %w", errWrite, err)
					}
				}
			}
		}
	}
	res.Remaining, res.Unlimited = usage.Balance(req.Buckets, used)
	if req.DryRun {
		// A check answers what the consume would leave.
		res.Remaining, res.Unlimited = usage.Balance(req.Buckets, usage.After(req.Buckets, used, res.Plan))
	}
	if res.Allowed && !req.DryRun {
		rec := usage.Recorded{BodyHash: req.BodyHash, Outcome: res.Outcome, Amount: req.Amount, Takes: res.Takes,
			Overage: res.Overage, Remaining: res.Remaining, Unlimited: res.Unlimited, At: now}
		if err := writeRecord(recs, idem, rec, now.Add(s.opts.IdempotencyTTL).UnixMilli()); err != nil {
			return usage.ConsumeResult{}, fmt.Errorf("%w: %w", errWrite, err)
		}
	}
	return res, nil
}

// Release gives a recorded consume back to the periods still open.
func (s *Store) Release(_ context.Context, req usage.ReleaseRequest) (usage.ReleaseResult, error) {
	var res usage.ReleaseResult
	err := s.db.Update(func(tx *bbolt.Tx) error {
		now := s.opts.Clock().UTC()
		recs := tx.Bucket(records)
		idem := s.scopeKey(req.Scope, req.Key)
		rec, ok, err := readRecord(recs, idem, now)
		if err != nil {
			return err
		}
		switch {
		case !ok:
			res = usage.ReleaseResult{Outcome: usage.ReleaseNotFound}
			return nil
		case rec.Released:
			res = usage.ReleaseResult{Outcome: usage.ReleaseReleased, Amount: sum(rec.Takes), To: rec.Takes, Again: true}
			return nil
		}
		back, _ := usage.Release(rec.Takes, now)
		if len(back) == 0 {
			res = usage.ReleaseResult{Outcome: usage.ReleasePeriodClosed}
			return nil
		}
		cb := tx.Bucket(counters)
		for _, t := range back {
			key := s.scopeKey(req.Scope, t.Counter())
			left := readCounter(cb, key, now)
			if err := writeCounter(cb, key, left-min(left, t.Amount), s.counterExpiry(t.PeriodEnd)); err != nil {
				return err
			}
		}
		rec.Released = true
		v := recs.Get(idem)
		if err := writeRecord(recs, idem, rec, int64(binary.BigEndian.Uint64(v))); err != nil { // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
			return err
		}
		res = usage.ReleaseResult{Outcome: usage.ReleaseReleased, Amount: sum(back), To: back}
		return nil
	})
	if err != nil {
		return usage.ReleaseResult{}, fmt.Errorf("release: %w: %w", usage.ErrUnavailable, err)
	}
	return res, nil
}

func sum(takes []usage.Take) int64 {
	var n int64
	for _, t := range takes {
		n += t.Amount
	}
	return n
}

// Used reads the buckets' counters.
func (s *Store) Used(_ context.Context, sc usage.Scope, buckets []usage.Bucket) ([]int64, error) {
	used := make([]int64, len(buckets))
	err := s.db.View(func(tx *bbolt.Tx) error {
		cb := tx.Bucket(counters)
		now := s.opts.Clock()
		for i, b := range buckets {
			used[i] = readCounter(cb, s.scopeKey(sc, b.Counter()), now)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read usage: %w: %w", usage.ErrUnavailable, err)
	}
	return used, nil
}

// Replay adds a consume's takes unless its key is recorded; a key recorded
// with the same body and other takes is rebased onto rec (see usage.Store).
func (s *Store) Replay(_ context.Context, sc usage.Scope, key string, rec usage.Recorded) (bool, error) {
	var added bool
	err := s.writes.update(func(tx *bbolt.Tx) error {
		added = false
		now := s.opts.Clock().UTC()
		recs := tx.Bucket(records)
		idem := s.scopeKey(sc, key)
		cb := tx.Bucket(counters)
		if cur, ok, _ := readRecord(recs, idem, now); ok {
			if cur.BodyHash != rec.BodyHash || cur.Released || usage.SameTakes(cur.Takes, rec.Takes) {
				return nil
			}
			for _, t := range cur.Takes {
				k := s.scopeKey(sc, t.Counter())
				if err := writeCounter(cb, k, readCounter(cb, k, now)-t.Amount, s.counterExpiry(t.PeriodEnd)); err != nil {
					return err
				}
			}
			for _, t := range rec.Takes {
				k := s.scopeKey(sc, t.Counter())
				if err := writeCounter(cb, k, readCounter(cb, k, now)+t.Amount, s.counterExpiry(t.PeriodEnd)); err != nil {
					return err
				}
			}
			expiry := int64(binary.BigEndian.Uint64(recs.Get(idem))) // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
			return writeRecord(recs, idem, rec, expiry)
		}
		for _, t := range rec.Takes {
			k := s.scopeKey(sc, t.Counter())
			if err := writeCounter(cb, k, readCounter(cb, k, now)+t.Amount, s.counterExpiry(t.PeriodEnd)); err != nil {
				return err
			}
		}
		added = true
		return writeRecord(recs, idem, rec, now.Add(s.opts.IdempotencyTTL).UnixMilli())
	})
	if err != nil {
		return false, fmt.Errorf("replay: %w: %w", usage.ErrUnavailable, err)
	}
	return added, nil
}

func (s *Store) sweepLoop() {
	defer s.done.Done()
	t := time.NewTicker(s.opts.SweepEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			_, _ = s.Sweep()
		}
	}
}

// sweepChunk bounds how many entries one sweep transaction reads: the
// sweep holds bbolt's single writer, so a scan of a large file in one
// transaction stalled every consume behind it (600,000 keys took ~120 ms).
var sweepChunk = 20000

// expiring is a bucket the sweep reads, with where its values keep their
// expiry (0: never).
type expiring struct {
	bucket []byte
	expiry func(v []byte) int64
}

var swept = []expiring{
	{counters, func(v []byte) int64 {
		if len(v) != 16 {
			return 1
		}
		return int64(binary.BigEndian.Uint64(v[8:])) // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
	}},
	{records, func(v []byte) int64 {
		if len(v) < 8 {
			return 1
		}
		return int64(binary.BigEndian.Uint64(v)) // #nosec G115 -- an int64 stored as its eight big-endian bytes and read back: the conversion round-trips
	}},
}

// Sweep deletes the counters and keys that have expired, in transactions
// that read at most sweepChunk entries each, so that consumes commit in
// between; it reports how many it deleted.
func (s *Store) Sweep() (int, error) {
	total := 0
	for _, e := range swept {
		var from []byte
		for {
			n, next, err := s.sweepFrom(e, from)
			total += n
			if err != nil {
				return total, err
			}
			if next == nil {
				break
			}
			from = next
		}
	}
	return total, nil
}

// sweepFrom deletes the expired entries of e's bucket from the key from
// (the first when nil) on, reading at most sweepChunk; next is where the
// following chunk starts, nil at the end of the bucket.
func (s *Store) sweepFrom(e expiring, from []byte) (deleted int, next []byte, err error) {
	err = s.db.Update(func(tx *bbolt.Tx) error {
		deleted, next = 0, nil
		now := s.opts.Clock().UnixMilli()
		c := tx.Bucket(e.bucket).Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for read := 0; k != nil; read++ {
			if read == sweepChunk {
				next = append([]byte(nil), k...)
				return nil
			}
			if exp := e.expiry(v); exp == 0 || now < exp {
				k, v = c.Next()
				continue
			}
			key := append([]byte(nil), k...)
			if err := c.Delete(); err != nil {
				return err
			}
			deleted++
			// Seek the deleted key's successor: it does not depend on
			// where Delete leaves the cursor.
			k, v = c.Seek(key)
		}
		return nil
	})
	return deleted, next, err
}
