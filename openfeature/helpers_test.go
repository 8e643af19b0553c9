package openfeature_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

// clock is the instant of the evaluations: examples/acme's README decisions
// hold on 25 April 2026.
var clock = time.Date(2026, 4, 25, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return clock }

func acmeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "acme"))))
	return dir
}

// register hands p to a fresh OpenFeature API (never the global one),
// recording its events from the start, and returns a client of it and the
// error of SetProviderAndWait; the API is shut down when the test ends.
func register(t *testing.T, p of.FeatureProvider) (*of.Client, *events, error) {
	t.Helper()
	api := isolated.NewAPI()
	t.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	ev := watchEvents(api)
	err := api.SetProviderAndWait(context.Background(), p)
	return api.NewClient(), ev, err
}

// loaderStep is what one Load of a scriptedLoader gives.
type loaderStep struct {
	revision string
	err      error // the source cannot be read
	invalid  bool  // the source reads but does not validate
}

// scriptedLoader plays its steps in order, then repeats the last one. The
// model of examples/acme is built under each step's revision.
type scriptedLoader struct {
	model *promotions.Model
	mu    sync.Mutex
	steps []loaderStep
	loads chan string // each Load's revision or error, for tests to wait on
}

func newScriptedLoader(t *testing.T, steps ...loaderStep) *scriptedLoader {
	t.Helper()
	res, err := compiler.Load(os.DirFS(filepath.Join("..", "examples", "acme")), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK())
	return &scriptedLoader{model: res.Model, steps: steps, loads: make(chan string, 100)}
}

// play replaces what is left of the script.
func (l *scriptedLoader) play(steps ...loaderStep) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.steps = steps
}

func (l *scriptedLoader) Describe() string { return "scripted" }

func (l *scriptedLoader) Load(context.Context) (*store.Loaded, error) {
	l.mu.Lock()
	step := l.steps[0]
	if len(l.steps) > 1 {
		l.steps = l.steps[1:]
	}
	l.mu.Unlock()
	defer func() {
		select {
		case l.loads <- step.revision:
		default:
		}
	}()
	if step.err != nil {
		return nil, step.err
	}
	loaded := &store.Loaded{Revision: step.revision, ContentHash: step.revision}
	if step.invalid {
		loaded.Diagnostics = promotions.Diagnostics{{Severity: promotions.SeverityError, Code: "SCHEMA", File: "features/sso.yaml", Line: 3, Column: 7, Message: "broken"}}
		return loaded, nil
	}
	loaded.Build = func(*snapshot.Snapshot) (*snapshot.Snapshot, error) { return snapshot.Build(l.model, step.revision) }
	return loaded, nil
}

var errUnreadable = errors.New("source unreadable")

// events records the provider events an API delivers. The SDK runs each
// handler on its own goroutine, so two events of one transition (READY and
// CONFIGURATION_CHANGED) may arrive in either order: tests count them.
type events struct {
	mu    sync.Mutex
	count map[of.EventType]int
}

func watchEvents(api *of.EvaluationAPI) *events {
	e := &events{count: map[of.EventType]int{}}
	for _, t := range []of.EventType{of.ProviderReady, of.ProviderStale, of.ProviderError, of.ProviderConfigChange} {
		cb := func(of.EventDetails) {
			e.mu.Lock()
			e.count[t]++
			e.mu.Unlock()
		}
		api.AddHandler(t, &cb)
	}
	return e
}

// counts returns how many events of each type arrived.
func (e *events) counts() map[of.EventType]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[of.EventType]int{}
	for k, v := range e.count {
		out[k] = v
	}
	return out
}

// await waits until n events of type want have arrived in all.
func (e *events) await(t *testing.T, want of.EventType, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return e.counts()[want] >= n }, 10*time.Second, 2*time.Millisecond,
		"waiting for %d %s event(s); got %v", n, want, e.counts())
}
