package usage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/redistest"
	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/openfeature/reposource"
	"github.com/promoctl/promoctl/openfeature/usage"
)

const acme = "../../examples/acme"

func provider(t *testing.T) *openfeature.Provider {
	t.Helper()
	p := reposource.New(acme, openfeature.Options{})
	require.NoError(t, p.InitWithContext(context.Background(), of.EvaluationContext{}))
	t.Cleanup(p.Shutdown)
	return p
}

// The in-process client runs the sidecars' script against the same Redis:
// what it consumes, a sidecar on that Redis sees, and the other way round;
// both answer alike.
func TestInProcessAndSidecarShareOneBalance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs redis-server and a sidecar")
	}
	srv := redistest.Start(t)
	inproc, err := usage.NewRedis(srv.URL(), provider(t), usage.Options{Timeout: time.Second})
	require.NoError(t, err)
	defer inproc.Close()
	sc := sidecartest.Start(t, sidecartest.Build(t), acme, "--usage-store", srv.URL())
	remote := usage.NewSidecar(sc.URL, "")
	defer remote.Close()
	ctx := context.Background()

	// cus_002's api_calls now: the plan's monthly allowance.
	req := usage.Request{Customer: "cus_002", Feature: "api_calls", Amount: 7, IdempotencyKey: "order-1"}
	first, err := inproc.Consume(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "consumed", first.Outcome)
	assert.Equal(t, "redis", first.Store)

	again, err := remote.Consume(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, "duplicate", again.Outcome, "the sidecar sees the key the in-process client recorded")
	first.Outcome = "duplicate"
	assert.Equal(t, first, again, "both answer alike")

	chk, err := remote.Check(ctx, usage.Request{Customer: "cus_002", Feature: "api_calls", Amount: 1})
	require.NoError(t, err)
	local, err := inproc.Check(ctx, usage.Request{Customer: "cus_002", Feature: "api_calls", Amount: 1})
	require.NoError(t, err)
	assert.Equal(t, local, chk)

	_, err = remote.Consume(ctx, usage.Request{Customer: "cus_002", Feature: "api_calls", Amount: 8, IdempotencyKey: "order-1"})
	assert.True(t, errors.Is(err, usage.ErrKeyReused), "%v", err)
	_, err = inproc.Consume(ctx, usage.Request{Customer: "cus_002", Feature: "api_calls", Amount: 8, IdempotencyKey: "order-1"})
	assert.True(t, errors.Is(err, usage.ErrKeyReused), "%v", err)

	u1, err := inproc.Usage(ctx, "cus_002", "api_calls", time.Time{})
	require.NoError(t, err)
	u2, err := remote.Usage(ctx, "cus_002", "api_calls", time.Time{})
	require.NoError(t, err)
	require.Len(t, u1.Buckets, 1)
	assert.Equal(t, int64(7), *u1.Buckets[0].Used)
	assert.Equal(t, u1.Buckets, u2.Buckets)

	rel, err := remote.Release(ctx, "cus_002", "api_calls", "order-1")
	require.NoError(t, err)
	assert.Equal(t, "released", rel.Outcome)
	u1, err = inproc.Usage(ctx, "cus_002", "api_calls", time.Time{})
	require.NoError(t, err)
	assert.Equal(t, int64(0), *u1.Buckets[0].Used)
}
