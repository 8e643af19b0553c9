package redis

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valkey-io/valkey-go"

	"github.com/promoctl/promoctl/evaluator/usage"
)

var (
	//go:embed consume.lua
	consumeScript string
	//go:embed release.lua
	releaseScript string
	//go:embed replay.lua
	replayScript string
	//go:embed rebase.lua
	rebaseScript string
)

// Options configure a Store. Zero values take the defaults.
type Options struct {
	Namespace      string        // usage.DefaultNamespace
	Retention      time.Duration // usage.DefaultRetention
	IdempotencyTTL time.Duration // usage.DefaultIdempotencyTTL
	// DialTimeout bounds connecting (default 1 s); callers bound each
	// request with their context.
	DialTimeout time.Duration
}

// Store is the shared usage store.
type Store struct {
	conn                     atomic.Pointer[valkey.Client]
	consume, release, replay *valkey.Lua
	rebase                   *valkey.Lua
	opts                     Options
	addr                     string
	stop                     chan struct{}
	closeOnce                sync.Once
	lastErr                  atomic.Pointer[error]
}

// Open connects to the Redis or Valkey server a redis:// or rediss:// URL
// names. A server that cannot be reached yet is not an error: the store
// answers as unavailable (each feature's on_store_failure applies) and
// keeps connecting in the background; only a URL that is not one fails.
func Open(rawURL string, opts Options) (*Store, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		return nil, fmt.Errorf("usage store %q: want a redis:// or rediss:// URL", redact(rawURL))
	}
	copt, err := valkey.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("usage store %s: %w", redact(rawURL), err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = time.Second
	}
	copt.Dialer.Timeout = opts.DialTimeout
	// Client-side caching needs RESP3 tracking and is of no use for
	// counters that change on every consume.
	copt.DisableCache = true
	copt.ConnWriteTimeout = 2 * time.Second
	s := newStore(opts, u.Host)
	client, err := valkey.NewClient(copt)
	if err == nil {
		s.conn.Store(&client)
		return s, nil
	}
	s.fail(err)
	go s.connect(copt)
	return s, nil
}

// connect retries until the server answers or the store is closed.
func (s *Store) connect(copt valkey.ClientOption) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		client, err := valkey.NewClient(copt)
		if err != nil {
			s.fail(err)
			continue
		}
		select {
		case <-s.stop:
			client.Close()
		default:
			s.conn.Store(&client)
		}
		return
	}
}

func (s *Store) fail(err error) { s.lastErr.Store(&err) }

// client is the connected client, or an error while there is none.
func (s *Store) client() (valkey.Client, error) {
	if c := s.conn.Load(); c != nil {
		return *c, nil
	}
	err := errors.New("not connected yet")
	if last := s.lastErr.Load(); last != nil {
		err = *last
	}
	return nil, fmt.Errorf("%w: %s: %w", usage.ErrUnavailable, s.addr, err)
}

// New wraps a connected client.
func New(client valkey.Client, opts Options, addr string) *Store {
	s := newStore(opts, addr)
	s.conn.Store(&client)
	return s
}

func newStore(opts Options, addr string) *Store {
	if opts.Namespace == "" {
		opts.Namespace = usage.DefaultNamespace
	}
	if opts.Retention == 0 {
		opts.Retention = usage.DefaultRetention
	}
	if opts.IdempotencyTTL == 0 {
		opts.IdempotencyTTL = usage.DefaultIdempotencyTTL
	}
	return &Store{
		consume: valkey.NewLuaScript(consumeScript),
		release: valkey.NewLuaScript(releaseScript),
		replay:  valkey.NewLuaScript(replayScript),
		rebase:  valkey.NewLuaScript(rebaseScript),
		opts:    opts,
		addr:    addr,
		stop:    make(chan struct{}),
	}
}

// redact drops a password from a URL before it is printed.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Name is "redis".
func (s *Store) Name() string { return "redis" }

// Addr is the server's host:port.
func (s *Store) Addr() string { return s.addr }

// Close closes the connections.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { close(s.stop) })
	if c := s.conn.Load(); c != nil {
		(*c).Close()
	}
	return nil
}

// Tag is the hash tag every key of a scope shares.
func (s *Store) Tag(sc usage.Scope) string {
	ns := sc.Namespace
	if ns == "" {
		ns = s.opts.Namespace
	}
	return "{" + ns + "|" + sc.Customer + "|" + sc.Feature + "}"
}

func (s *Store) idemKey(sc usage.Scope, key string) string { return s.Tag(sc) + ":k:" + key }

func (s *Store) counterKey(sc usage.Scope, counter string) string { return s.Tag(sc) + ":c:" + counter }

// unavailable marks an error of the connection or the server as a store
// failure; a script's own error is a bug and says so.
func unavailable(op string, err error) error {
	return fmt.Errorf("%s: %w: %w", op, usage.ErrUnavailable, err)
}

// Consume runs the consume script (or, for a dry run, its check).
func (s *Store) Consume(ctx context.Context, req usage.ConsumeRequest) (usage.ConsumeResult, error) {
	active := usage.Active(req.Buckets)
	keys := make([]string, 0, 1+len(active))
	keys = append(keys, s.idemKey(req.Scope, req.Key))
	op, soft := "consume", "0"
	if req.DryRun {
		op = "check"
	}
	if req.Overage == usage.OverageSoft {
		soft = "1"
	}
	args := make([]string, 0, 7+4*len(active))
	args = append(args, op, req.BodyHash, strconv.FormatInt(req.Amount, 10), soft,
		strconv.FormatInt(s.opts.IdempotencyTTL.Milliseconds(), 10), strconv.FormatInt(s.opts.Retention.Milliseconds(), 10),
		strconv.Itoa(len(active)))
	for _, i := range active {
		b := req.Buckets[i]
		keys = append(keys, s.counterKey(req.Scope, b.Counter()))
		allowance := min(b.Allowance, usage.MaxAmount)
		if b.Unlimited {
			allowance = -1
		}
		args = append(args, b.ID, strconv.FormatInt(allowance, 10),
			strconv.FormatInt(usage.Millis(b.PeriodStart), 10), strconv.FormatInt(usage.Millis(b.PeriodEnd), 10))
	}
	if req.DryRun {
		keys[0] = s.Tag(req.Scope) + ":k:" // unused by a check; keeps the slot
	}
	client, err := s.client()
	if err != nil {
		return usage.ConsumeResult{}, err
	}
	reply, err := s.consume.Exec(ctx, client, keys, args).ToArray()
	if err != nil {
		return usage.ConsumeResult{}, unavailable("consume", err)
	}
	status, err := reply[0].ToString()
	if err != nil {
		return usage.ConsumeResult{}, unavailable("consume reply", err)
	}
	switch status {
	case "reused":
		return usage.ConsumeResult{}, usage.ErrKeyReused
	case "dup":
		line, _ := reply[1].ToString()
		rec, err := usage.DecodeRecord(line)
		if err != nil {
			return usage.ConsumeResult{}, fmt.Errorf("consume: %w", err)
		}
		return rec.Duplicate(), nil
	case "stale":
		now, _ := reply[1].AsInt64()
		return usage.ConsumeResult{}, &usage.StaleError{Now: time.UnixMilli(now).UTC()}
	}
	nowMS, _ := reply[1].AsInt64()
	res := usage.ConsumeResult{Amount: req.Amount, Now: time.UnixMilli(nowMS).UTC(), Used: make([]int64, len(req.Buckets))}
	usedFrom := 2
	if status == "ok" {
		usedFrom = 3
	}
	for j, i := range active {
		res.Used[i], _ = reply[usedFrom+j].AsInt64()
	}
	switch status {
	case "ok":
		line, _ := reply[2].ToString()
		rec, err := usage.DecodeRecord(line)
		if err != nil {
			return usage.ConsumeResult{}, fmt.Errorf("consume: %w", err)
		}
		res.Plan = usage.Plan{Outcome: rec.Outcome, Allowed: true, Takes: rec.Takes, Overage: rec.Overage}
	case "denied":
		res.Plan = usage.Plan{Outcome: usage.OutcomeDenied}
	case "check":
		res.Plan = usage.Consume(req.Buckets, res.Used, req.Amount, req.Overage)
		// A check answers what the consume would leave.
		res.Remaining, res.Unlimited = usage.Balance(req.Buckets, usage.After(req.Buckets, res.Used, res.Plan))
		return res, nil
	default:
		return usage.ConsumeResult{}, fmt.Errorf("consume: unexpected reply %q", status)
	}
	res.Remaining, res.Unlimited = usage.Balance(req.Buckets, res.Used)
	return res, nil
}

// Release gives a recorded consume back.
func (s *Store) Release(ctx context.Context, req usage.ReleaseRequest) (usage.ReleaseResult, error) {
	idem := s.idemKey(req.Scope, req.Key)
	client, err := s.client()
	if err != nil {
		return usage.ReleaseResult{}, err
	}
	for range 3 {
		line, err := client.Do(ctx, client.B().Get().Key(idem).Build()).ToString()
		if valkey.IsValkeyNil(err) {
			return usage.ReleaseResult{Outcome: usage.ReleaseNotFound}, nil
		}
		if err != nil {
			return usage.ReleaseResult{}, unavailable("release", err)
		}
		rec, err := usage.DecodeRecord(line)
		if err != nil {
			return usage.ReleaseResult{}, fmt.Errorf("release: %w", err)
		}
		if rec.Released {
			return usage.ReleaseResult{Outcome: usage.ReleaseReleased, Amount: sum(rec.Takes), To: rec.Takes, Again: true}, nil
		}
		released := rec
		released.Released = true
		keys := []string{idem}
		args := []string{line, usage.EncodeRecord(released), strconv.Itoa(len(rec.Takes))}
		for _, t := range rec.Takes {
			keys = append(keys, s.counterKey(req.Scope, t.Counter()))
			args = append(args, strconv.FormatInt(t.Amount, 10), strconv.FormatInt(usage.Millis(t.PeriodEnd), 10))
		}
		reply, err := s.release.Exec(ctx, client, keys, args).ToArray()
		if err != nil {
			return usage.ReleaseResult{}, unavailable("release", err)
		}
		status, _ := reply[0].ToString()
		switch status {
		case "not_found":
			return usage.ReleaseResult{Outcome: usage.ReleaseNotFound}, nil
		case "changed":
			continue
		case "released":
			var to []usage.Take
			for _, m := range reply[2:] {
				i, _ := m.AsInt64()
				to = append(to, rec.Takes[i-1])
			}
			if len(to) == 0 {
				return usage.ReleaseResult{Outcome: usage.ReleasePeriodClosed}, nil
			}
			return usage.ReleaseResult{Outcome: usage.ReleaseReleased, Amount: sum(to), To: to}, nil
		default:
			return usage.ReleaseResult{}, fmt.Errorf("release: unexpected reply %q", status)
		}
	}
	return usage.ReleaseResult{}, errors.New("release: the record kept changing")
}

func sum(takes []usage.Take) int64 {
	var n int64
	for _, t := range takes {
		n += t.Amount
	}
	return n
}

// Used reads the buckets' counters in one MGET.
func (s *Store) Used(ctx context.Context, sc usage.Scope, buckets []usage.Bucket) ([]int64, error) {
	used := make([]int64, len(buckets))
	if len(buckets) == 0 {
		return used, nil
	}
	keys := make([]string, len(buckets))
	for i, b := range buckets {
		keys[i] = s.counterKey(sc, b.Counter())
	}
	client, err := s.client()
	if err != nil {
		return nil, err
	}
	vals, err := client.Do(ctx, client.B().Mget().Key(keys...).Build()).ToArray()
	if err != nil {
		return nil, unavailable("read usage", err)
	}
	for i, v := range vals {
		if n, err := v.AsInt64(); err == nil {
			used[i] = n
		}
	}
	return used, nil
}

// Replay adds a spooled consume's takes unless its key is recorded; a key
// recorded with the same body and other takes is rebased onto rec (see
// usage.Store).
func (s *Store) Replay(ctx context.Context, sc usage.Scope, key string, rec usage.Recorded) (bool, error) {
	idem := s.idemKey(sc, key)
	keys := []string{idem}
	args := []string{usage.EncodeRecord(rec), strconv.FormatInt(s.opts.IdempotencyTTL.Milliseconds(), 10),
		strconv.FormatInt(s.opts.Retention.Milliseconds(), 10), strconv.Itoa(len(rec.Takes))}
	for _, t := range rec.Takes {
		keys = append(keys, s.counterKey(sc, t.Counter()))
		args = append(args, strconv.FormatInt(t.Amount, 10), strconv.FormatInt(usage.Millis(t.PeriodEnd), 10))
	}
	client, err := s.client()
	if err != nil {
		return false, err
	}
	for range 3 {
		reply, err := s.replay.Exec(ctx, client, keys, args).ToArray()
		if err != nil {
			return false, unavailable("replay", err)
		}
		if status, _ := reply[0].ToString(); status == "ok" {
			return true, nil
		}
		line, _ := reply[1].ToString()
		cur, err := usage.DecodeRecord(line)
		if err != nil {
			return false, fmt.Errorf("replay: %w", err)
		}
		if cur.BodyHash != rec.BodyHash || cur.Released || usage.SameTakes(cur.Takes, rec.Takes) {
			return false, nil
		}
		rebased, err := s.rebaseRecord(ctx, client, sc, idem, line, cur, rec)
		if err != nil || rebased {
			return false, err
		}
	}
	return false, errors.New("replay: the record kept changing")
}

// rebaseRecord moves the counters from cur's takes (the record read as
// line) to rec's and records rec; false when the record changed meanwhile.
func (s *Store) rebaseRecord(ctx context.Context, client valkey.Client, sc usage.Scope, idem, line string, cur, rec usage.Recorded) (bool, error) {
	keys := []string{idem}
	args := []string{line, usage.EncodeRecord(rec), strconv.FormatInt(s.opts.Retention.Milliseconds(), 10),
		strconv.Itoa(len(cur.Takes)), strconv.Itoa(len(rec.Takes))}
	for _, t := range cur.Takes {
		keys = append(keys, s.counterKey(sc, t.Counter()))
		args = append(args, strconv.FormatInt(t.Amount, 10))
	}
	for _, t := range rec.Takes {
		keys = append(keys, s.counterKey(sc, t.Counter()))
		args = append(args, strconv.FormatInt(t.Amount, 10), strconv.FormatInt(usage.Millis(t.PeriodEnd), 10))
	}
	reply, err := s.rebase.Exec(ctx, client, keys, args).ToArray()
	if err != nil {
		return false, unavailable("replay", err)
	}
	status, _ := reply[0].ToString()
	return status == "rebased", nil
}

// Now is the server's TIME.
func (s *Store) Now(ctx context.Context) (time.Time, error) {
	client, err := s.client()
	if err != nil {
		return time.Time{}, err
	}
	vals, err := client.Do(ctx, client.B().Time().Build()).AsStrSlice()
	if err != nil || len(vals) != 2 {
		return time.Time{}, unavailable("time", err)
	}
	sec, err1 := strconv.ParseInt(vals[0], 10, 64)
	usec, err2 := strconv.ParseInt(vals[1], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, fmt.Errorf("time: unexpected reply %v", vals)
	}
	return time.Unix(sec, usec*1000).UTC(), nil
}
