package openfeature

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/evaluator/watch"
)

// Name is the provider's name in OpenFeature metadata.
const Name = "promoctl"

// Options tune a provider.
type Options struct {
	// Watch is a directory or file whose changes trigger a reload (file
	// events, debounced); empty means no watching.
	Watch string
	// Poll, when positive, also reloads at this interval: for file systems
	// without file events, and for sources that are not files. Without
	// Watch or Poll the source is loaded once, at Init.
	Poll time.Duration
	// Debounce is how long a watched path must stay quiet before a reload
	// (default 200 ms).
	Debounce time.Duration
	Log      *slog.Logger
	// Now is the clock for evaluations (default time.Now).
	Now func() time.Time
}

// Provider decides in-process. Create it with New (or reposource.New), hand
// it to the OpenFeature SDK (SetProviderAndWait), and shut the SDK down
// when done: Init starts the reloads and Shutdown stops them.
type Provider struct {
	store *store.Store
	opts  Options
	log   *slog.Logger
	now   func() time.Time

	events chan of.Event

	mu      sync.Mutex // guards the fields below and serialises Init/Shutdown
	state   of.State
	stop    context.CancelFunc
	stopped chan struct{}
	first   chan struct{} // closed after the first reload attempt of a run
	// waiting is true while Init waits for the first attempt, which it
	// then reports itself; once Init has given up, events report it.
	waiting bool
}

// New returns a provider that decides from what loader reads. It serves
// nothing until Init.
func New(loader store.Loader, opts Options) *Provider {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Provider{
		store:  store.New(loader, opts.Log),
		opts:   opts,
		log:    opts.Log,
		now:    opts.Now,
		events: make(chan of.Event, 16),
		state:  of.NotReadyState,
	}
}

var (
	_ of.FeatureProvider          = (*Provider)(nil)
	_ of.ContextAwareStateHandler = (*Provider)(nil)
	_ of.EventHandler             = (*Provider)(nil)
)

// Metadata names the provider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: Name} }

// Hooks returns none.
func (p *Provider) Hooks() []of.Hook { return nil }

// EventChannel carries the state changes after Init has returned
// (PROVIDER_READY, PROVIDER_ERROR, PROVIDER_STALE) and
// PROVIDER_CONFIGURATION_CHANGED for every new snapshot after the first.
// The SDK reads it; code that calls Init itself must read it too, or
// reloads wait once 16 events are pending.
func (p *Provider) EventChannel() <-chan of.Event { return p.events }

// Source names what the provider loads.
func (p *Provider) Source() string { return p.store.Source() }

// Status reports the serving revision and the last reload, as the
// sidecar's /v1/status does.
func (p *Provider) Status() store.Status { return p.store.Status() }

// State is the provider's state as it last reported it to the SDK.
func (p *Provider) State() of.State {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// Init loads the source, then keeps reloading it in the background.
func (p *Provider) Init(evalCtx of.EvaluationContext) error {
	return p.InitWithContext(context.Background(), evalCtx)
}

// InitWithContext loads the source and returns once the first load is
// done: nil when a snapshot serves (READY), an error when nothing could
// be loaded (ERROR) or ctx ended first. The reloads go on either way, and
// the first good one makes the provider READY.
func (p *Provider) InitWithContext(ctx context.Context, _ of.EvaluationContext) error {
	p.mu.Lock()
	if p.stop == nil {
		p.start()
	}
	first := p.first
	p.mu.Unlock()

	select {
	case <-first:
	case <-ctx.Done():
		p.mu.Lock()
		select {
		case <-first: // finished meanwhile: report it below
			p.mu.Unlock()
		default:
			p.waiting = false
			p.mu.Unlock()
			return fmt.Errorf("load %s: %w", p.store.Source(), ctx.Err())
		}
	}
	if p.store.Snapshot() == nil {
		return fmt.Errorf("load %s: %w", p.store.Source(), p.lastError())
	}
	return nil
}

// start runs the reloads until Shutdown; p.mu is held.
func (p *Provider) start() {
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.stopped, p.first = cancel, make(chan struct{}), make(chan struct{})
	p.waiting = true
	run := &run{p: p, first: p.first}
	go func() {
		defer close(p.stopped)
		if p.opts.Watch == "" {
			run.poll(ctx)
			return
		}
		err := watch.Run(ctx, p.opts.Watch, run.reload, watch.Options{Debounce: p.opts.Debounce, Poll: p.opts.Poll, Log: p.log})
		if err != nil {
			p.log.Error("watcher stopped", slog.String("error", err.Error()))
			run.reload(ctx) // the source may still load once
		}
	}()
}

// Shutdown stops the reloads; the last snapshot keeps answering.
func (p *Provider) Shutdown() { _ = p.ShutdownWithContext(context.Background()) }

// ShutdownWithContext stops the reloads and waits for the one in flight.
func (p *Provider) ShutdownWithContext(ctx context.Context) error {
	p.mu.Lock()
	stop, stopped := p.stop, p.stopped
	p.stop = nil
	if p.store.Snapshot() == nil {
		p.state = of.NotReadyState
	}
	p.mu.Unlock()
	if stop == nil {
		return nil
	}
	stop()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shut down the %s provider: %w", Name, ctx.Err())
	}
}

// run is one Init-to-Shutdown lifetime of the reloads.
type run struct {
	p         *Provider
	first     chan struct{}
	firstDone bool
}

func (r *run) poll(ctx context.Context) {
	r.reload(ctx)
	if r.p.opts.Poll <= 0 {
		return
	}
	t := time.NewTicker(r.p.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.reload(ctx)
		}
	}
}

// reload reloads the store and reports what changed to the SDK. The first
// attempt of a run is Init's to report; later ones become events.
func (r *run) reload(ctx context.Context) {
	p := r.p
	hadSnapshot := p.store.Snapshot() != nil
	outcome := p.store.Reload(ctx)
	serving := p.store.Snapshot() != nil

	var next of.State
	switch {
	case outcome == store.Swapped:
		next = of.ReadyState
	case outcome == store.Failed && serving:
		next = of.StaleState
	case outcome == store.Failed:
		next = of.ErrorState
	default: // unchanged: the state stays
		next = p.State()
		if next == of.NotReadyState && !serving {
			next = of.ErrorState // a first attempt cut short
		}
	}

	p.mu.Lock()
	prev := p.state
	p.state = next
	initReports := false
	if !r.firstDone {
		r.firstDone = true
		close(r.first)
		initReports, p.waiting = p.waiting, false
	}
	p.mu.Unlock()
	if initReports {
		return // Init returns READY (nil) or ERROR (the reason)
	}
	rev := p.store.Status().Revision
	switch next {
	case of.ReadyState:
		if prev != of.ReadyState {
			r.emit(ctx, of.ProviderReady, "serving revision "+rev)
		}
		if outcome == store.Swapped && hadSnapshot {
			r.emit(ctx, of.ProviderConfigChange, "serving revision "+rev)
		}
	case of.StaleState:
		if prev != of.StaleState {
			r.emit(ctx, of.ProviderStale, "reload failed; still serving revision "+rev+": "+p.lastError().Error())
		}
	case of.ErrorState:
		if prev != of.ErrorState {
			r.emit(ctx, of.ProviderError, p.lastError().Error())
		}
	}
}

func (r *run) emit(ctx context.Context, t of.EventType, msg string) {
	ev := of.Event{ProviderName: Name, EventType: t, ProviderEventDetails: of.ProviderEventDetails{
		Message:       msg,
		EventMetadata: map[string]any{"revision": r.p.store.Status().Revision},
	}}
	if t == of.ProviderError {
		ev.ErrorCode = of.GeneralCode
	}
	select {
	case r.p.events <- ev:
	case <-ctx.Done():
	}
}

// lastError describes why the last reload failed.
func (p *Provider) lastError() error {
	last := p.store.Status().LastReload
	switch {
	case last == nil:
		return store.ErrNotReady
	case last.Err != "":
		return errors.New(last.Err)
	case last.ErrorCount > 0:
		return fmt.Errorf("%d validation error(s), the first %s", last.ErrorCount, last.Errors[0])
	default:
		return store.ErrNotReady
	}
}

// Decide gives the full decision, sources included. A zero q.At means
// now. Before the first good load it returns store.ErrNotReady; for an
// unknown feature evaluator.ErrFeatureNotFound.
func (p *Provider) Decide(q evaluator.Query) (evaluator.Decision, error) {
	snap := p.store.Snapshot()
	if snap == nil {
		return evaluator.Decision{}, store.ErrNotReady
	}
	if q.At.IsZero() {
		q.At = p.now()
	}
	q.At = q.At.UTC()
	return evaluator.Decide(snap, q)
}

// Snapshot is the snapshot the provider decides from, nil before the first
// good load: what the usage client (openfeature/usage) computes buckets
// from.
func (p *Provider) Snapshot() *snapshot.Snapshot { return p.store.Snapshot() }
