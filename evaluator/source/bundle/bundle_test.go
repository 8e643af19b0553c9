package bundle_test

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	format "github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/source/bundle"
	"github.com/promoctl/promoctl/evaluator/store"
)

const acme = "../../../examples/acme"

type keyPair struct {
	priv ed25519.PrivateKey
	pub  ed25519.PublicKey
}

func newKey(t *testing.T) keyPair {
	t.Helper()
	privPEM, pubPEM, err := format.GenerateKey()
	require.NoError(t, err)
	priv, err := format.ParsePrivateKey(privPEM)
	require.NoError(t, err)
	pub, err := format.ParsePublicKey(pubPEM)
	require.NoError(t, err)
	return keyPair{priv, pub}
}

// build returns the bundle of the example repo with spring-api-boost's
// allowance set to boost (cus_001's api_calls on 2026-04-01 is then
// 10,000 + boost), signed with key when it is set. A larger boost is a
// later commit: its commit time is boost minutes after a fixed instant.
func build(t *testing.T, boost int, key ed25519.PrivateKey) []byte {
	t.Helper()
	commit := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(boost) * time.Minute)
	return buildAt(t, boost, commit, commit.Add(time.Minute), key)
}

// buildAt is build with the commit and build times given.
func buildAt(t *testing.T, boost int, commit, built time.Time, key ed25519.PrivateKey) []byte {
	t.Helper()
	res, err := compiler.Load(os.DirFS(acme), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK())
	res.Model.Promotions["spring-api-boost"].Metered.Allowance.Value = int64(boost)
	rev := "boost-" + strconv.Itoa(boost)
	data, err := format.Encode(res.Model, format.Header{Revision: rev, ContentHash: rev, CommitTime: commit, BuildTime: built}, key)
	require.NoError(t, err)
	return data
}

func apiCalls(t *testing.T, s *store.Store) int64 {
	t.Helper()
	snap := s.Snapshot()
	require.NotNil(t, snap)
	d, err := evaluator.Decide(snap, evaluator.Query{Customer: "cus_001", Feature: "api_calls", At: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	return d.Allowance.Value
}

func TestFileSource(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acme.bundle")
	require.NoError(t, os.WriteFile(path, build(t, 5, nil), 0o644))
	s := store.New(bundle.New(path, bundle.Options{}), nil)
	ctx := context.Background()

	require.Equal(t, store.Swapped, s.Reload(ctx))
	assert.Equal(t, int64(10005), apiCalls(t, s))
	st := s.Status()
	assert.Equal(t, "boost-5", st.Revision)
	assert.Equal(t, bundle.KindFile, st.Source.Kind)
	require.NotNil(t, st.Bundle)
	assert.Empty(t, st.Bundle.SignedBy)
	assert.Equal(t, store.Unchanged, s.Reload(ctx), "an unchanged file is not read again")

	require.NoError(t, os.WriteFile(path, build(t, 7, nil), 0o644))
	require.Equal(t, store.Swapped, s.Reload(ctx))
	assert.Equal(t, int64(10007), apiCalls(t, s))

	broken := build(t, 9, nil)
	broken[len(broken)-40] ^= 1
	require.NoError(t, os.WriteFile(path, broken, 0o644))
	require.Equal(t, store.Failed, s.Reload(ctx))
	assert.Equal(t, int64(10007), apiCalls(t, s), "the last good bundle keeps serving")
	assert.Contains(t, s.Status().LastReload.Err, "bundle refused (altered)")
}

// testServer serves one bundle at a time with an ETag, and counts requests
// and 304s.
type testServer struct {
	mu      sync.Mutex
	data    []byte
	status  int // when set, answered instead of the bundle
	gets    atomic.Int64
	notMods atomic.Int64
}

func (s *testServer) set(data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.data, s.status = data, 0
}

func (s *testServer) fail(code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = code
}

func (s *testServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.gets.Add(1)
	s.mu.Lock()
	data, status := s.data, s.status
	s.mu.Unlock()
	if status != 0 {
		http.Error(w, "down", status)
		return
	}
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.notMods.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(data)
}

func newServer(t *testing.T, data []byte) (*testServer, *httptest.Server) {
	t.Helper()
	s := &testServer{data: data}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

func TestURLSourceUsesETag(t *testing.T) {
	srv, ts := newServer(t, build(t, 5, nil))
	cache := t.TempDir()
	l := bundle.New(ts.URL+"/acme.bundle", bundle.Options{CacheDir: cache})
	s := store.New(l, nil)
	ctx := context.Background()

	require.Equal(t, store.Swapped, s.Reload(ctx))
	assert.Equal(t, int64(10005), apiCalls(t, s))
	assert.FileExists(t, filepath.Join(cache, "bundle"))

	assert.Equal(t, store.Unchanged, s.Reload(ctx))
	assert.EqualValues(t, 1, srv.notMods.Load(), "the second poll sent If-None-Match and got 304")
	st := s.Status()
	require.NotNil(t, st.Source.LastFetch)
	assert.True(t, st.Source.LastFetch.OK)
	assert.True(t, st.Source.LastFetch.NotModified)
	assert.EqualValues(t, 2, st.Source.FetchesOK)
	assert.Equal(t, bundle.KindURL, st.Source.Kind)

	srv.set(build(t, 7, nil))
	require.Equal(t, store.Swapped, s.Reload(ctx))
	assert.Equal(t, int64(10007), apiCalls(t, s))
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"bundle", "bundle.etag"}, names, "no temp file is left behind")
}

func TestURLSourceKeepsLastGood(t *testing.T) {
	key := newKey(t)
	srv, ts := newServer(t, build(t, 5, key.priv))
	l := bundle.New(ts.URL, bundle.Options{Key: key.pub, CacheDir: t.TempDir()})
	s := store.New(l, nil)
	ctx := context.Background()
	require.Equal(t, store.Swapped, s.Reload(ctx))
	require.True(t, s.Status().Bundle.Verified)

	srv.fail(http.StatusBadGateway)
	assert.Equal(t, store.Failed, s.Reload(ctx))
	assert.Equal(t, int64(10005), apiCalls(t, s))
	st := s.Status()
	assert.Contains(t, st.LastReload.Err, "502 Bad Gateway")
	assert.False(t, st.Source.LastFetch.OK)
	assert.EqualValues(t, 1, st.Source.FetchesFailed)

	srv.set(build(t, 6, nil)) // unsigned
	assert.Equal(t, store.Failed, s.Reload(ctx))
	assert.Contains(t, s.Status().LastReload.Err, "bundle refused (unsigned)")
	assert.Equal(t, int64(10005), apiCalls(t, s))

	srv.set(build(t, 8, key.priv))
	require.Equal(t, store.Swapped, s.Reload(ctx))
	assert.Equal(t, int64(10008), apiCalls(t, s))
}

func TestURLSourceRefusals(t *testing.T) {
	key, other := newKey(t), newKey(t)
	good := build(t, 5, key.priv)
	tests := []struct {
		name    string
		data    []byte
		opts    bundle.Options
		problem format.Problem
	}{
		{"truncated", good[:len(good)/2], bundle.Options{}, format.Truncated},
		{"altered", func() []byte { b := append([]byte(nil), good...); b[100] ^= 1; return b }(), bundle.Options{}, format.Altered},
		{"oversized", good, bundle.Options{MaxSize: int64(len(good) - 1)}, format.Oversized},
		{"unsigned when a key is required", build(t, 5, nil), bundle.Options{Key: key.pub}, format.Unsigned},
		{"wrong key", good, bundle.Options{Key: other.pub}, format.WrongKey},
		{"not a bundle", []byte("kind: Feature\n"), bundle.Options{}, format.NotABundle},
	}
	for _, tt := range tests {
		for _, cached := range []bool{false, true} {
			name := tt.name + map[bool]string{false: ", in memory", true: ", to the cache"}[cached]
			t.Run(name, func(t *testing.T) {
				_, ts := newServer(t, tt.data)
				opts := tt.opts
				if cached {
					opts.CacheDir = t.TempDir()
				}
				s := store.New(bundle.New(ts.URL, opts), nil)
				require.Equal(t, store.Failed, s.Reload(context.Background()))
				assert.Nil(t, s.Snapshot())
				assert.Contains(t, s.Status().LastReload.Err, "bundle refused ("+string(tt.problem)+")")
				if cached {
					entries, err := os.ReadDir(opts.CacheDir)
					require.NoError(t, err)
					assert.Empty(t, entries, "a refused download is not kept")
				}
			})
		}
	}
}

func TestURLSourceOversizedByContentLength(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "2000")
		_, _ = w.Write([]byte(strings.Repeat("x", 2000)))
	}))
	t.Cleanup(ts.Close)
	s := store.New(bundle.New(ts.URL, bundle.Options{MaxSize: 1000, CacheDir: t.TempDir()}), nil)
	require.Equal(t, store.Failed, s.Reload(context.Background()))
	assert.Contains(t, s.Status().LastReload.Err, "bundle refused (oversized): Content-Length 2000, more than the limit of 1000")
}

func TestURLSourceStartsFromCacheWhenDown(t *testing.T) {
	key := newKey(t)
	srv, ts := newServer(t, build(t, 5, key.priv))
	cache := t.TempDir()
	first := store.New(bundle.New(ts.URL, bundle.Options{Key: key.pub, CacheDir: cache}), nil)
	require.Equal(t, store.Swapped, first.Reload(context.Background()))

	t.Run("server down", func(t *testing.T) {
		srv.fail(http.StatusServiceUnavailable)
		s := store.New(bundle.New(ts.URL, bundle.Options{Key: key.pub, CacheDir: cache}), nil)
		require.Equal(t, store.Swapped, s.Reload(context.Background()))
		assert.Equal(t, int64(10005), apiCalls(t, s))
		assert.False(t, s.Status().Source.LastFetch.OK)
	})
	t.Run("server unreachable", func(t *testing.T) {
		s := store.New(bundle.New("http://127.0.0.1:1/acme.bundle", bundle.Options{Key: key.pub, CacheDir: cache}), nil)
		require.Equal(t, store.Swapped, s.Reload(context.Background()))
		assert.Equal(t, int64(10005), apiCalls(t, s))
	})
	t.Run("server up: 304 for the cached bundle", func(t *testing.T) {
		srv.set(build(t, 5, key.priv))
		before := srv.notMods.Load()
		s := store.New(bundle.New(ts.URL, bundle.Options{Key: key.pub, CacheDir: cache}), nil)
		require.Equal(t, store.Swapped, s.Reload(context.Background()))
		assert.Equal(t, before+1, srv.notMods.Load(), "the cached bundle's ETag was sent")
	})
	t.Run("cache verified again with the current key", func(t *testing.T) {
		srv.fail(http.StatusServiceUnavailable)
		s := store.New(bundle.New(ts.URL, bundle.Options{Key: newKey(t).pub, CacheDir: cache}), nil)
		require.Equal(t, store.Failed, s.Reload(context.Background()))
		assert.Nil(t, s.Snapshot(), "a cache signed by another key is not served")
	})
}

// A server without ETags sends the same bundle on every poll: it is
// recognised by its hash and neither decoded nor swapped again.
func TestURLSourceWithoutETag(t *testing.T) {
	data := build(t, 5, nil)
	var gets atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gets.Add(1)
		_, _ = w.Write(data)
	}))
	t.Cleanup(ts.Close)
	for _, cache := range []string{"", t.TempDir()} {
		s := store.New(bundle.New(ts.URL, bundle.Options{CacheDir: cache}), nil)
		require.Equal(t, store.Swapped, s.Reload(context.Background()))
		first := s.Snapshot()
		assert.Equal(t, store.Unchanged, s.Reload(context.Background()))
		assert.Same(t, first, s.Snapshot())
		assert.True(t, s.Status().Source.LastFetch.NotModified, "the same bytes count as not modified")
	}
	assert.EqualValues(t, 4, gets.Load())
}
