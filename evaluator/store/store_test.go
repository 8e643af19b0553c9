package store_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

// steps is a loader that answers each Load with the next step.
type steps []func() (*store.Loaded, error)

func (s *steps) Load(context.Context) (*store.Loaded, error) {
	next := (*s)[0]
	*s = (*s)[1:]
	return next()
}

func (s *steps) Describe() string { return "steps" }

func good(rev string) func() (*store.Loaded, error) {
	return func() (*store.Loaded, error) {
		return &store.Loaded{Revision: rev, ContentHash: rev, Build: func(*snapshot.Snapshot) (*snapshot.Snapshot, error) {
			return snapshot.Build(promotions.NewModel(), rev)
		}}, nil
	}
}

func unreadable() (*store.Loaded, error) { return nil, errors.New("the source cannot be read") }

// TestFailureLogSaysWhatServes: a failure before any good load does not
// claim a last good snapshot; one after does; durations read as durations.
func TestFailureLogSaysWhatServes(t *testing.T) {
	var logs bytes.Buffer
	loader := &steps{unreadable, good("r1"), func() (*store.Loaded, error) { return nil, errors.New("broken again") }}
	s := store.New(loader, slog.New(slog.NewJSONHandler(&logs, nil)))
	ctx := context.Background()

	require.Equal(t, store.Failed, s.Reload(ctx))
	assert.Contains(t, logs.String(), `"msg":"reload failed; no snapshot serves yet"`)
	assert.NotContains(t, logs.String(), "last good")

	logs.Reset()
	require.Equal(t, store.Swapped, s.Reload(ctx))
	assert.Regexp(t, `"duration":"[0-9.]+(ns|µs|ms|s)"`, logs.String())

	logs.Reset()
	require.Equal(t, store.Failed, s.Reload(ctx))
	assert.Contains(t, logs.String(), `"msg":"reload failed; keeping the last good snapshot"`)
	assert.Contains(t, logs.String(), `"serving_revision":"r1"`)
}
