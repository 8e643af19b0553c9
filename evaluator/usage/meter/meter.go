package meter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/promotions"
)

// Query names whose buckets are asked for; Plan and Attributes override the
// directory's as in a decision.
type Query struct {
	Customer   string
	Feature    string
	Plan       string
	Attributes map[string]string
}

// BucketInfo is what a bucket shows beyond what consumption needs.
type BucketInfo struct {
	Source string
	Kind   string // plan | promotion
	Mode   string // additive | override, for promotions
	Reset  string
}

// Layout is a customer's buckets for a metered feature at an instant.
type Layout struct {
	Buckets []usage.Bucket
	// Info is aligned with Buckets.
	Info     []BucketInfo
	Policy   promotions.FeatureUsage
	Revision string
}

// Source computes layouts from the serving snapshot. It returns
// ErrNotMetered for a boolean feature and the decision's own errors
// (feature not found, unknown plan, not ready) otherwise.
type Source interface {
	Layout(q Query, at time.Time) (Layout, error)
}

// Errors the HTTP layer maps to codes.
var (
	ErrNotMetered = errors.New("usage is kept for metered features only")
	// ErrInvalid wraps a request that cannot be answered as given (400).
	ErrInvalid = errors.New("invalid usage request")
	// ErrStoreUnavailable is a store failure the feature's policy does not
	// absorb (503, retry after RetryAfter).
	ErrStoreUnavailable = errors.New("the usage store is unavailable")
	// ErrDisabled is usage asked of a sidecar started without a store.
	ErrDisabled = errors.New("usage is disabled on this sidecar: it runs without a usage store")
)

// Options configure a Meter. Zero values take the defaults.
type Options struct {
	// Spool keeps consumes answered while Store was unreachable; nil when
	// Store is itself local (the embedded store).
	Spool     usage.Spool
	Namespace string
	// Timeout bounds each store call (default 25 ms).
	Timeout time.Duration
	// OpenFor is how long the breaker stops calling a failing store
	// (default 1 s).
	OpenFor time.Duration
	// Retention is how long the store keeps a closed period's counters;
	// reads further in the past answer null usage.
	Retention time.Duration
	// Clock is the local clock (time.Now).
	Clock func() time.Time
	Log   *slog.Logger
	// ReplayEvery is how often the spool is replayed (default 250 ms).
	ReplayEvery time.Duration
}

// RetryAfter is what a 503 asks the client to wait: the breaker's open
// time.
func (m *Meter) RetryAfter() time.Duration { return m.opts.OpenFor }

// Meter answers usage requests. It is safe for concurrent use.
type Meter struct {
	src   Source
	store usage.Store
	opts  Options
	// offset is the store's clock minus the local clock at the last
	// answer: buckets are computed at the store's instant the first time
	// whenever the clocks disagree steadily.
	offset    atomic.Int64
	openUntil atomic.Int64 // unix nanos; the breaker is open before it
	stop      chan struct{}
	done      sync.WaitGroup
	closeOnce sync.Once
	observers atomic.Pointer[Observers]
	// spooled counts the consumes in the spool, so that a consume looks
	// a key up in the spool only while it holds something.
	spooled atomic.Int64
}

// Observers see what the meter does, for metrics.
type Observers struct {
	// Store sees every store call: its operation ("consume", "release",
	// "read", "replay"), duration and error.
	Store func(op string, d time.Duration, err error)
	// Outcome sees every consume's outcome ("consumed", "consumed_over",
	// "denied", "duplicate", "degraded", "unavailable").
	Outcome func(outcome string)
}

// Observe installs the observers (before serving).
func (m *Meter) Observe(o Observers) { m.observers.Store(&o) }

// New builds a meter over src and store; a nil store is usage disabled.
// With a spool, it replays the spool in the background until Close.
func New(src Source, store usage.Store, opts Options) *Meter {
	if opts.Timeout == 0 {
		opts.Timeout = 25 * time.Millisecond
	}
	if opts.OpenFor == 0 {
		opts.OpenFor = time.Second
	}
	if opts.Retention == 0 {
		opts.Retention = usage.DefaultRetention
	}
	if opts.Namespace == "" {
		opts.Namespace = usage.DefaultNamespace
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.ReplayEvery == 0 {
		opts.ReplayEvery = 250 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	m := &Meter{src: src, store: store, opts: opts, stop: make(chan struct{})}
	if opts.Spool != nil {
		m.spooled.Store(int64(opts.Spool.SpoolLen()))
	}
	if store != nil && opts.Spool != nil {
		m.done.Add(1)
		go m.replayLoop()
	}
	return m
}

// Close stops the replay loop (the store is the caller's to close).
func (m *Meter) Close() {
	m.closeOnce.Do(func() { close(m.stop) })
	m.done.Wait()
}

// Enabled reports whether the meter has a store.
func (m *Meter) Enabled() bool { return m.store != nil }

// StoreName names the store ("embedded", "redis"), "off" without one.
func (m *Meter) StoreName() string {
	if m.store == nil {
		return "off"
	}
	return m.store.Name()
}

// Healthy reports whether the breaker is closed: the last store call
// succeeded or the open time has passed.
func (m *Meter) Healthy() bool { return m.opts.Clock().UnixNano() >= m.openUntil.Load() }

// SpoolLen is how many consumes wait to be replayed.
func (m *Meter) SpoolLen() int {
	if m.opts.Spool == nil {
		return 0
	}
	return m.opts.Spool.SpoolLen()
}

func (m *Meter) scope(customer, feature string) usage.Scope {
	return usage.Scope{Namespace: m.opts.Namespace, Customer: customer, Feature: feature}
}

// now is the local clock moved by the last known offset to the store's.
func (m *Meter) now() time.Time {
	return m.opts.Clock().Add(time.Duration(m.offset.Load())).UTC()
}

// call runs one store operation with the timeout, detached from the
// caller's cancellation (a client that hangs up must not turn an applied
// consume into a spooled one), feeding the breaker and the metrics.
func (m *Meter) call(ctx context.Context, op string, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.opts.Timeout)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	if o := m.observers.Load(); o != nil && o.Store != nil {
		o.Store(op, time.Since(start), err)
	}
	if unavailable(err) {
		m.openUntil.Store(m.opts.Clock().Add(m.opts.OpenFor).UnixNano())
		m.opts.Log.Warn("usage store failed; the breaker is open", slog.String("op", op),
			slog.String("store", m.store.Name()), slog.Duration("open_for", m.opts.OpenFor), slog.Any("error", err))
	}
	return err
}

func unavailable(err error) bool {
	return errors.Is(err, usage.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

// BodyHash identifies a consume's body, so that a key reused with another
// body is told apart from a retry.
func BodyHash(req ConsumeRequest) string {
	h := sha256.New()
	for _, s := range []string{req.Customer, req.Feature, strconv.FormatInt(req.Amount, 10), req.Plan} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	keys := make([]string, 0, len(req.Attributes))
	for k := range req.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		h.Write([]byte(k))
		h.Write([]byte{0})
		h.Write([]byte(req.Attributes[k]))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func (m *Meter) validate(req ConsumeRequest, withKey bool) error {
	if req.Customer == "" || req.Feature == "" {
		return fmt.Errorf("%w: customer and feature are required", ErrInvalid)
	}
	if err := usage.ValidateAmount(req.Amount); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if withKey {
		if err := usage.ValidateKey(req.IdempotencyKey); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalid, err)
		}
	}
	return nil
}

// Consume consumes req.Amount (check: dryRun) and answers.
func (m *Meter) Consume(ctx context.Context, req ConsumeRequest, dryRun bool) (Answer, error) {
	if m.store == nil {
		return Answer{}, ErrDisabled
	}
	if err := m.validate(req, !dryRun); err != nil {
		return Answer{}, err
	}
	q := Query{Customer: req.Customer, Feature: req.Feature, Plan: req.Plan, Attributes: req.Attributes}
	sc := m.scope(req.Customer, req.Feature)
	hash := ""
	if !dryRun {
		hash = BodyHash(req)
		if m.opts.Spool != nil && m.spooled.Load() > 0 {
			if rec, ok, err := m.opts.Spool.Spooled(sc, req.IdempotencyKey); err == nil && ok {
				if rec.BodyHash != hash {
					return Answer{}, usage.ErrKeyReused
				}
				lay, err := m.src.Layout(q, m.now())
				if err != nil {
					return Answer{}, err
				}
				a := m.recordAnswer(rec, lay)
				a.Degraded = true
				m.outcome(a)
				return a, nil
			}
		}
	}
	lay, err := m.src.Layout(q, m.now())
	if err != nil {
		return Answer{}, err
	}
	if !m.Healthy() {
		return m.degraded(req, sc, hash, lay, dryRun)
	}
	for range 3 {
		var res usage.ConsumeResult
		err := m.call(ctx, "consume", func(ctx context.Context) error {
			var err error
			res, err = m.store.Consume(ctx, usage.ConsumeRequest{Scope: sc, Key: req.IdempotencyKey, BodyHash: hash,
				Amount: req.Amount, Overage: overage(lay.Policy), Buckets: lay.Buckets, DryRun: dryRun})
			return err
		})
		var stale *usage.StaleError
		switch {
		case errors.As(err, &stale):
			m.offset.Store(int64(stale.Now.Sub(m.opts.Clock())))
			if lay, err = m.src.Layout(q, stale.Now); err != nil {
				return Answer{}, err
			}
			continue
		case unavailable(err):
			return m.degraded(req, sc, hash, lay, dryRun)
		case err != nil:
			return Answer{}, err
		}
		if res.Outcome == usage.OutcomeDuplicate {
			a := m.recordAnswer(*res.First, lay)
			m.outcome(a)
			return a, nil
		}
		a := m.answer(res, lay)
		if !dryRun {
			m.outcome(a)
		}
		return a, nil
	}
	return Answer{}, fmt.Errorf("%w: the buckets kept changing under the store's clock", ErrStoreUnavailable)
}

func (m *Meter) outcome(a Answer) {
	if a.Degraded && a.Outcome != string(usage.OutcomeDuplicate) {
		m.count("degraded")
		return
	}
	m.count(a.Outcome)
}

func (m *Meter) count(outcome string) {
	if o := m.observers.Load(); o != nil && o.Outcome != nil {
		o.Outcome(outcome)
	}
}

func overage(p promotions.FeatureUsage) usage.Overage {
	if p.Overage == promotions.OverageSoft {
		return usage.OverageSoft
	}
	return usage.OverageBlock
}

// degraded answers a consume the store could not take, by the feature's
// policy: deny refuses it; allow answers from the allowance alone and
// spools an allowed consume for replay.
func (m *Meter) degraded(req ConsumeRequest, sc usage.Scope, hash string, lay Layout, dryRun bool) (Answer, error) {
	if lay.Policy.OnStoreFailure == promotions.StoreFailureDeny {
		if !dryRun {
			m.count("unavailable")
		}
		return Answer{}, ErrStoreUnavailable
	}
	plan := usage.Consume(lay.Buckets, nil, req.Amount, overage(lay.Policy))
	used := make([]int64, len(lay.Buckets))
	for _, t := range plan.Takes {
		for i, b := range lay.Buckets {
			if b.ID == t.Bucket && !b.Suspended {
				used[i] += t.Amount
			}
		}
	}
	res := usage.ConsumeResult{Plan: plan, Amount: req.Amount, Used: used, Now: m.now()}
	res.Remaining, res.Unlimited = usage.Balance(lay.Buckets, used)
	a := m.answer(res, lay)
	a.Degraded = true
	if dryRun {
		return a, nil
	}
	if plan.Allowed && m.opts.Spool != nil {
		rec := usage.Recorded{BodyHash: hash, Outcome: plan.Outcome, Amount: req.Amount, Takes: plan.Takes,
			Overage: plan.Overage, Remaining: res.Remaining, Unlimited: res.Unlimited, At: res.Now}
		m.spooled.Add(1) // before it is there: a retry must look it up
		if err := m.opts.Spool.Spool(sc, req.IdempotencyKey, rec); err != nil {
			m.spooled.Add(-1)
			m.opts.Log.Error("spooling a consume failed; refusing it", slog.Any("error", err))
			return Answer{}, ErrStoreUnavailable
		}
	}
	m.outcome(a)
	return a, nil
}

func (m *Meter) answer(res usage.ConsumeResult, lay Layout) Answer {
	a := Answer{
		Outcome:   string(res.Outcome),
		Allowed:   res.Allowed,
		Amount:    res.Amount,
		Remaining: res.Remaining,
		Unlimited: res.Unlimited,
		From:      parts(res.Takes),
		NextReset: timePtr(usage.NextReset(lay.Buckets)),
		Overage:   res.Overage,
		Store:     m.store.Name(),
		Revision:  lay.Revision,
	}
	if !a.Allowed {
		a.Reason = ReasonQuotaExceeded
	}
	if a.Unlimited {
		a.Remaining = usage.MaxAmount
	}
	return a
}

// recordAnswer is the first result of a consume, answered again.
func (m *Meter) recordAnswer(rec usage.Recorded, lay Layout) Answer {
	a := Answer{
		Outcome:   string(usage.OutcomeDuplicate),
		Allowed:   true,
		Amount:    rec.Amount,
		Remaining: rec.Remaining,
		Unlimited: rec.Unlimited,
		From:      parts(rec.Takes),
		NextReset: timePtr(usage.NextReset(lay.Buckets)),
		Overage:   rec.Overage,
		Store:     m.store.Name(),
		Revision:  lay.Revision,
	}
	if a.Unlimited {
		a.Remaining = usage.MaxAmount
	}
	return a
}

func parts(takes []usage.Take) []Part {
	out := make([]Part, 0, len(takes))
	for _, t := range takes {
		out = append(out, Part{Bucket: t.Bucket, Amount: t.Amount})
	}
	return out
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Release gives a recorded consume back.
func (m *Meter) Release(ctx context.Context, req ReleaseRequest) (ReleaseAnswer, error) {
	if m.store == nil {
		return ReleaseAnswer{}, ErrDisabled
	}
	if req.Customer == "" || req.Feature == "" {
		return ReleaseAnswer{}, fmt.Errorf("%w: customer and feature are required", ErrInvalid)
	}
	if err := usage.ValidateKey(req.IdempotencyKey); err != nil {
		return ReleaseAnswer{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !m.Healthy() {
		return ReleaseAnswer{}, ErrStoreUnavailable
	}
	sc := m.scope(req.Customer, req.Feature)
	if m.opts.Spool != nil && m.spooled.Load() > 0 {
		// A consume still in the spool is replayed first, so that the
		// release finds it in the store.
		if rec, ok, err := m.opts.Spool.Spooled(sc, req.IdempotencyKey); err == nil && ok {
			if err := m.replayOne(ctx, usage.Spooled{Scope: sc, Key: req.IdempotencyKey, Record: rec}); err != nil {
				return ReleaseAnswer{}, ErrStoreUnavailable
			}
		}
	}
	var res usage.ReleaseResult
	err := m.call(ctx, "release", func(ctx context.Context) error {
		var err error
		res, err = m.store.Release(ctx, usage.ReleaseRequest{Scope: sc, Key: req.IdempotencyKey})
		return err
	})
	if unavailable(err) {
		return ReleaseAnswer{}, ErrStoreUnavailable
	}
	if err != nil {
		return ReleaseAnswer{}, err
	}
	to := parts(res.To)
	return ReleaseAnswer{Outcome: string(res.Outcome), Amount: res.Amount, To: to, Store: m.store.Name()}, nil
}

// Usage reads a customer's buckets and their counters at at (zero: the
// store's clock).
func (m *Meter) Usage(ctx context.Context, q Query, at time.Time) (UsageAnswer, error) {
	if m.store == nil {
		return UsageAnswer{}, ErrDisabled
	}
	if at.IsZero() {
		at = m.now()
	}
	lay, err := m.src.Layout(q, at)
	if err != nil {
		return UsageAnswer{}, err
	}
	var used []int64
	err = m.call(ctx, "read", func(ctx context.Context) error {
		var err error
		used, err = m.store.Used(ctx, m.scope(q.Customer, q.Feature), lay.Buckets)
		return err
	})
	if unavailable(err) {
		return UsageAnswer{}, ErrStoreUnavailable
	}
	if err != nil {
		return UsageAnswer{}, err
	}
	return m.usageAnswer(q, at, lay, used), nil
}

func (m *Meter) usageAnswer(q Query, at time.Time, lay Layout, used []int64) UsageAnswer {
	out := UsageAnswer{Customer: q.Customer, Feature: q.Feature, At: at, Buckets: make([]BucketUsage, 0, len(lay.Buckets)),
		NextReset: timePtr(usage.NextReset(lay.Buckets)), Store: m.store.Name(), Revision: lay.Revision}
	remaining, unlimited := usage.Balance(lay.Buckets, used)
	if unlimited {
		remaining = usage.MaxAmount
	}
	out.Remaining, out.Unlimited = &remaining, unlimited
	horizon := m.now().Add(-m.opts.Retention)
	for i, b := range lay.Buckets {
		info := BucketInfo{Source: b.ID}
		if i < len(lay.Info) {
			info = lay.Info[i]
		}
		bu := BucketUsage{Source: info.Source, Kind: info.Kind, Mode: info.Mode, Allowance: b.Allowance, Unlimited: b.Unlimited,
			Reset: info.Reset, PeriodStart: timePtr(b.PeriodStart), PeriodEnd: timePtr(b.PeriodEnd), Order: b.Order, State: StateActive}
		if b.Suspended {
			bu.State, bu.SuspendedBy = StateSuspended, b.SuspendedBy
		}
		if b.PeriodEnd.IsZero() || b.PeriodEnd.After(horizon) {
			u := used[i]
			rem := b.Remaining(u)
			over := int64(0)
			if !b.Unlimited && u > b.Allowance {
				over = u - b.Allowance
			}
			if b.Unlimited {
				rem = usage.MaxAmount
			}
			bu.Used, bu.Remaining, bu.Overage = &u, &rem, &over
		} else if !b.Suspended {
			// What is left cannot be told once a counter is gone.
			out.Remaining = nil
		}
		out.Buckets = append(out.Buckets, bu)
	}
	return out
}

func (m *Meter) replayLoop() {
	defer m.done.Done()
	t := time.NewTicker(m.opts.ReplayEvery)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.ReplayOnce(context.Background())
		}
	}
}

// ReplayOnce replays what the spool holds while the store answers; it
// reports how many consumes it replayed (added or found already there).
func (m *Meter) ReplayOnce(ctx context.Context) int {
	if m.opts.Spool == nil || m.store == nil || !m.Healthy() {
		return 0
	}
	n := 0
	for {
		pending, err := m.opts.Spool.Pending(100)
		if err != nil || len(pending) == 0 {
			return n
		}
		for _, p := range pending {
			if err := m.replayOne(ctx, p); err != nil {
				return n
			}
			n++
		}
	}
}

func (m *Meter) replayOne(ctx context.Context, p usage.Spooled) error {
	var added bool
	err := m.call(ctx, "replay", func(ctx context.Context) error {
		var err error
		added, err = m.store.Replay(ctx, p.Scope, p.Key, p.Record)
		return err
	})
	if err != nil {
		return err
	}
	m.opts.Log.Info("replayed a spooled consume", slog.String("customer", p.Scope.Customer),
		slog.String("feature", p.Scope.Feature), slog.Bool("added", added))
	if err := m.opts.Spool.Unspool(p.Scope, p.Key); err != nil {
		return err
	}
	m.spooled.Add(-1)
	return nil
}

// Client is what a caller of usage needs: a Meter in-process, or a
// sidecar's usage routes (evaluator/usage/sidecar).
type Client interface {
	Consume(ctx context.Context, req ConsumeRequest, dryRun bool) (Answer, error)
	Release(ctx context.Context, req ReleaseRequest) (ReleaseAnswer, error)
	Usage(ctx context.Context, q Query, at time.Time) (UsageAnswer, error)
}

var _ Client = (*Meter)(nil)
