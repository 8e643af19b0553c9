package openfeature_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/openfeature"
)

// bundleOf compiles a repo directory into bundle bytes, as `promoctl
// build` does (built now).
func bundleOf(t *testing.T, repo string) []byte {
	t.Helper()
	return bundleBuiltAt(t, repo, time.Now())
}

func bundleBuiltAt(t *testing.T, repo string, built time.Time) []byte {
	t.Helper()
	res, err := compiler.Load(os.DirFS(repo), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "%v", res.Diagnostics)
	data, err := bundle.Encode(res.Model, bundle.Header{Revision: res.ContentHash, ContentHash: res.ContentHash, BuildTime: built}, nil)
	require.NoError(t, err)
	return data
}

// writeAtomic publishes data at path by rename, as a deploy would.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o644))
	require.NoError(t, os.Rename(tmp, path))
}

// A bundle file answers as the repo it was built from, and is watched: a
// published change is a configuration change, a corrupt file makes the
// provider STALE while the last good bundle answers.
func TestBundleFile(t *testing.T) {
	repo := acmeDir(t)
	path := filepath.Join(t.TempDir(), "acme.bundle")
	writeAtomic(t, path, bundleOf(t, repo))

	p := openfeature.NewBundle(path, openfeature.BundleOptions{}, openfeature.Options{Now: fixedClock, Debounce: 20 * time.Millisecond})
	client, ev, err := register(t, p)
	require.NoError(t, err)
	ctx := context.Background()
	cus005 := of.NewEvaluationContext("cus_005", nil)
	d, err := client.IntValueDetails(ctx, "api_calls", 0, of.NewEvaluationContext("cus_001", nil))
	require.NoError(t, err)
	assert.Equal(t, int64(70000), d.Value)
	assert.Equal(t, "promotion:migration-burst", d.Variant)
	ok, err := client.BooleanValue(ctx, "sso", false, cus005)
	require.NoError(t, err)
	assert.True(t, ok)

	writeAtomic(t, path, []byte("not a bundle"))
	ev.await(t, of.ProviderStale, 1)
	ok, err = client.BooleanValue(ctx, "sso", false, cus005)
	require.NoError(t, err)
	assert.True(t, ok, "the last good bundle answers")

	require.NoError(t, os.Remove(filepath.Join(repo, "promotions", "sso-for-growth.yaml")))
	writeAtomic(t, path, bundleOf(t, repo))
	ev.await(t, of.ProviderConfigChange, 1)
	assert.Equal(t, of.ReadyState, client.State())
	ok, err = client.BooleanValue(ctx, "sso", true, cus005)
	require.NoError(t, err)
	assert.False(t, ok, "the new bundle has no sso-for-growth")
}

// A bundle URL is polled; a server that fails makes the provider STALE and
// the last good bundle answers; its return makes it READY again.
func TestBundleURL(t *testing.T) {
	data := bundleOf(t, acmeDir(t))
	var failing atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(data)
	}))
	defer srv.Close()

	p := openfeature.NewBundle(srv.URL+"/acme.bundle", openfeature.BundleOptions{}, openfeature.Options{Now: fixedClock, Poll: 20 * time.Millisecond})
	client, ev, err := register(t, p)
	require.NoError(t, err)
	dec, err := p.Decide(evaluator.Query{Customer: "cus_001", Feature: "api_calls"})
	require.NoError(t, err)
	assert.Equal(t, int64(70000), dec.Allowance.Value)

	failing.Store(true)
	ev.await(t, of.ProviderStale, 1)
	ok, err := client.BooleanValue(context.Background(), "sso", false, of.NewEvaluationContext("cus_005", nil))
	require.NoError(t, err)
	assert.True(t, ok, "the last good bundle answers")

	failing.Store(false)
	ev.await(t, of.ProviderReady, 2)
	assert.Equal(t, of.ReadyState, client.State())
}

// A bundle that is not signed by the required key is refused: nothing
// could be loaded, so the provider is in ERROR and says why.
func TestBundleUnsignedRefused(t *testing.T) {
	_, pub, err := bundle.GenerateKey()
	require.NoError(t, err)
	key, err := bundle.ParsePublicKey(pub)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "acme.bundle")
	writeAtomic(t, path, bundleOf(t, acmeDir(t)))

	client, _, err := register(t, openfeature.NewBundle(path, openfeature.BundleOptions{Key: key}, openfeature.Options{}))
	require.Error(t, err)
	assert.ErrorContains(t, err, "unsigned")
	assert.Equal(t, of.ErrorState, client.State())
}

// An older bundle published over a newer one is a rollback: refused (the
// provider is STALE and the newer bundle answers) unless AllowRollback.
func TestBundleRollbackRefused(t *testing.T) {
	repo := acmeDir(t)
	older := bundleBuiltAt(t, repo, time.Now().Add(-time.Hour))
	require.NoError(t, os.Remove(filepath.Join(repo, "promotions", "sso-for-growth.yaml")))
	newer := bundleOf(t, repo)
	cus005 := of.NewEvaluationContext("cus_005", nil)

	for _, allow := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "acme.bundle")
		writeAtomic(t, path, newer)
		p := openfeature.NewBundle(path, openfeature.BundleOptions{AllowRollback: allow}, openfeature.Options{Now: fixedClock, Debounce: 20 * time.Millisecond})
		client, ev, err := register(t, p)
		require.NoError(t, err)
		writeAtomic(t, path, older)
		if allow {
			ev.await(t, of.ProviderConfigChange, 1)
			ok, err := client.BooleanValue(context.Background(), "sso", false, cus005)
			require.NoError(t, err)
			assert.True(t, ok, "with AllowRollback the older bundle answers")
			continue
		}
		ev.await(t, of.ProviderStale, 1)
		ok, err := client.BooleanValue(context.Background(), "sso", true, cus005)
		require.NoError(t, err)
		assert.False(t, ok, "the newer bundle keeps answering")
		assert.Contains(t, p.Status().LastReload.Err, "ROLLBACK_REFUSED")
	}
}
