package openfeature_test

import (
	"context"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/openfeature"
)

var sso = of.NewEvaluationContext("cus_005", nil)

// The provider goes NOT_READY → ERROR (nothing could be loaded) → READY
// (the first good load) → STALE (a reload failed; the last good snapshot
// answers) → READY with a configuration change (the next good load), and
// a later good load is a configuration change alone.
func TestProviderStates(t *testing.T) {
	loader := newScriptedLoader(t, loaderStep{err: errUnreadable})
	p := openfeature.New(loader, openfeature.Options{Poll: 10 * time.Millisecond, Now: fixedClock})
	assert.Equal(t, of.NotReadyState, p.State())
	_, err := p.Decide(evaluator.Query{Customer: "cus_005", Feature: "sso"})
	require.ErrorIs(t, err, store.ErrNotReady)

	client, ev, err := register(t, p)
	require.Error(t, err, "nothing could be loaded")
	assert.ErrorContains(t, err, "source unreadable")
	ev.await(t, of.ProviderError, 1)
	assert.Equal(t, of.ErrorState, client.State())
	d, _ := client.BooleanValueDetails(context.Background(), "sso", false, sso)
	assert.Equal(t, of.ProviderNotReadyCode, d.ErrorCode)
	assert.False(t, d.Value)

	loader.play(loaderStep{revision: "rev1"})
	ev.await(t, of.ProviderReady, 1)
	assert.Equal(t, of.ReadyState, client.State())
	assert.Equal(t, of.ReadyState, p.State())
	ok, err := client.BooleanValue(context.Background(), "sso", false, sso)
	require.NoError(t, err)
	assert.True(t, ok)

	loader.play(loaderStep{revision: "rev2", invalid: true})
	ev.await(t, of.ProviderStale, 1)
	assert.Equal(t, of.StaleState, client.State())
	dec, err := p.Decide(evaluator.Query{Customer: "cus_005", Feature: "sso"})
	require.NoError(t, err)
	assert.Equal(t, "rev1", dec.Revision, "the last good snapshot answers")
	ok, err = client.BooleanValue(context.Background(), "sso", false, sso)
	require.NoError(t, err)
	assert.True(t, ok)

	loader.play(loaderStep{revision: "rev3"})
	ev.await(t, of.ProviderReady, 2)
	ev.await(t, of.ProviderConfigChange, 1)
	assert.Equal(t, of.ReadyState, client.State())
	dec, err = p.Decide(evaluator.Query{Customer: "cus_005", Feature: "sso"})
	require.NoError(t, err)
	assert.Equal(t, "rev3", dec.Revision)

	loader.play(loaderStep{revision: "rev4"})
	ev.await(t, of.ProviderConfigChange, 2)
	assert.Equal(t, of.ReadyState, client.State())
	time.Sleep(50 * time.Millisecond) // polls that change nothing send nothing
	assert.Equal(t, map[of.EventType]int{of.ProviderError: 1, of.ProviderReady: 2, of.ProviderStale: 1, of.ProviderConfigChange: 2}, ev.counts())
}

// A source that is invalid at start is ERROR too, with the first
// diagnostic in the error.
func TestProviderInvalidAtStart(t *testing.T) {
	loader := newScriptedLoader(t, loaderStep{revision: "bad", invalid: true})
	client, _, err := register(t, openfeature.New(loader, openfeature.Options{}))
	require.Error(t, err)
	assert.ErrorContains(t, err, "features/sso.yaml:3:7: SCHEMA")
	assert.Equal(t, of.ErrorState, client.State())
}

// Without Watch or Poll the source is read once, at Init.
func TestProviderLoadsOnceWithoutWatchOrPoll(t *testing.T) {
	loader := newScriptedLoader(t, loaderStep{revision: "rev1"})
	client, _, err := register(t, openfeature.New(loader, openfeature.Options{}))
	require.NoError(t, err)
	assert.Equal(t, of.ReadyState, client.State())
	assert.Equal(t, "rev1", <-loader.loads)
	select {
	case rev := <-loader.loads:
		t.Fatalf("loaded again (%q) without watch or poll", rev)
	case <-time.After(100 * time.Millisecond):
	}
}

// Shutdown stops the reloads; the last snapshot keeps answering Decide.
func TestProviderShutdownStopsReloads(t *testing.T) {
	loader := newScriptedLoader(t, loaderStep{revision: "rev1"})
	p := openfeature.New(loader, openfeature.Options{Poll: 5 * time.Millisecond})
	require.NoError(t, p.InitWithContext(context.Background(), of.EvaluationContext{}))
	require.NoError(t, p.ShutdownWithContext(context.Background()))
	for len(loader.loads) > 0 {
		<-loader.loads
	}
	select {
	case rev := <-loader.loads:
		t.Fatalf("loaded (%q) after Shutdown", rev)
	case <-time.After(50 * time.Millisecond):
	}
	_, err := p.Decide(evaluator.Query{Customer: "cus_005", Feature: "sso"})
	assert.NoError(t, err)
}

// Init gives up when its context ends before the first load does; the
// load goes on and its success is reported with a PROVIDER_READY event.
func TestProviderInitTimeout(t *testing.T) {
	loader := newScriptedLoader(t, loaderStep{revision: "rev1"})
	block := make(chan struct{})
	slow := &blockingLoader{scriptedLoader: loader, release: block}
	p := openfeature.New(slow, openfeature.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := p.InitWithContext(ctx, of.EvaluationContext{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(block)
	select {
	case ev := <-p.EventChannel():
		assert.Equal(t, of.ProviderReady, ev.EventType)
	case <-time.After(10 * time.Second):
		t.Fatal("no event after the late first load")
	}
	assert.Equal(t, of.ReadyState, p.State())
	require.NoError(t, p.ShutdownWithContext(context.Background()))
}

type blockingLoader struct {
	*scriptedLoader
	release chan struct{}
}

func (l *blockingLoader) Load(ctx context.Context) (*store.Loaded, error) {
	<-l.release
	return l.scriptedLoader.Load(ctx)
}
