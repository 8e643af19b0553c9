package bundle_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	format "github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/evaluator/source/bundle"
	"github.com/promoctl/promoctl/evaluator/store"
)

// TestRollbackIsRefused replays an older bundle signed with the same key:
// it is refused whatever carries it, the newer one keeps serving and the
// status says ROLLBACK_REFUSED; --allow-rollback serves it.
func TestRollbackIsRefused(t *testing.T) {
	key := newKey(t)
	commit := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	newer := build(t, 7, key.priv)
	tests := []struct {
		name  string
		older []byte
	}{
		{"an older commit", build(t, 5, key.priv)},
		{"the same commit time, another revision, an older build", buildAt(t, 9, commit.Add(7*time.Minute), commit, key.priv)},
		{"the same commit time, another revision, the same build time", buildAt(t, 9, commit.Add(7*time.Minute), commit.Add(8*time.Minute), key.priv)},
	}
	for _, tt := range tests {
		for _, allow := range []bool{false, true} {
			opts := bundle.Options{Key: key.pub, AllowRollback: allow}
			want := map[bool]int64{false: 10007, true: 10000 + int64(apiBoost(t, tt.older))}[allow]
			t.Run(tt.name+", file", func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "acme.bundle")
				require.NoError(t, os.WriteFile(path, newer, 0o644))
				s := store.New(bundle.New(path, opts), nil)
				require.Equal(t, store.Swapped, s.Reload(context.Background()))
				require.NoError(t, os.WriteFile(path, tt.older, 0o644))
				checkRollback(t, s, allow, want)
			})
			t.Run(tt.name+", url", func(t *testing.T) {
				srv, ts := newServer(t, newer)
				opts := opts
				opts.CacheDir = t.TempDir()
				s := store.New(bundle.New(ts.URL, opts), nil)
				require.Equal(t, store.Swapped, s.Reload(context.Background()))
				srv.set(tt.older)
				checkRollback(t, s, allow, want)
				if !allow {
					cached, err := os.ReadFile(filepath.Join(opts.CacheDir, "bundle"))
					require.NoError(t, err)
					assert.Equal(t, newer, cached, "the refused bundle does not replace the cached one")
					// A restart from that cache refuses it too.
					again := store.New(bundle.New(ts.URL, opts), nil)
					require.Equal(t, store.Swapped, again.Reload(context.Background()))
					assert.Equal(t, int64(10007), apiCalls(t, again))
				}
			})
		}
	}
}

func checkRollback(t *testing.T, s *store.Store, allowed bool, want int64) {
	t.Helper()
	if allowed {
		require.Equal(t, store.Swapped, s.Reload(context.Background()))
		assert.Equal(t, want, apiCalls(t, s))
		return
	}
	require.Equal(t, store.Failed, s.Reload(context.Background()))
	assert.Equal(t, int64(10007), apiCalls(t, s), "the newer bundle keeps serving")
	st := s.Status()
	assert.Contains(t, st.LastReload.Err, bundle.RollbackRefused)
	assert.Contains(t, st.LastReload.Err, "is older than the serving bundle boost-7")
	assert.True(t, st.Bundle.Verified)
	assert.Equal(t, "boost-7", st.Revision)
}

// apiBoost reads spring-api-boost's allowance from a bundle.
func apiBoost(t *testing.T, data []byte) int {
	t.Helper()
	b, err := format.Decode(data, format.Options{})
	require.NoError(t, err)
	return int(b.Model.Promotions["spring-api-boost"].Metered.Allowance.Value)
}

// TestNewerBundlesAreServed: a later commit, or the same commit time with
// a later build, replaces the serving bundle.
func TestNewerBundlesAreServed(t *testing.T) {
	commit := time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "acme.bundle")
	require.NoError(t, os.WriteFile(path, buildAt(t, 5, commit, commit, nil), 0o644))
	s := store.New(bundle.New(path, bundle.Options{}), nil)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	require.NoError(t, os.WriteFile(path, buildAt(t, 6, commit, commit.Add(time.Second), nil), 0o644))
	require.Equal(t, store.Swapped, s.Reload(context.Background()), "same commit time, later build")
	require.NoError(t, os.WriteFile(path, buildAt(t, 2, commit.Add(time.Second), commit, nil), 0o644))
	require.Equal(t, store.Swapped, s.Reload(context.Background()), "later commit")
	assert.Equal(t, int64(10002), apiCalls(t, s))
}

// TestFileSourceReadsOnlyRegularFiles puts a link to /dev/zero and a named
// pipe where the bundle file was: each is refused at once with a message,
// the last good bundle keeps serving, and a good file put back is loaded.
func TestFileSourceReadsOnlyRegularFiles(t *testing.T) {
	tests := []struct {
		name, message string
		make          func(path string) error
	}{
		{"a link to a device", "a device, not a regular file", func(path string) error { return os.Symlink("/dev/zero", path) }},
		{"a named pipe", "a named pipe (FIFO), not a regular file", func(path string) error { return syscall.Mkfifo(path, 0o644) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "acme.bundle")
			require.NoError(t, os.WriteFile(path, build(t, 5, nil), 0o644))
			s := store.New(bundle.New(path, bundle.Options{}), nil)
			require.Equal(t, store.Swapped, s.Reload(context.Background()))

			require.NoError(t, os.Remove(path))
			require.NoError(t, tt.make(path))
			require.Equal(t, store.Failed, reloadWithin(t, s, 5*time.Second))
			assert.Contains(t, s.Status().LastReload.Err, tt.message)
			assert.Equal(t, int64(10005), apiCalls(t, s))

			require.NoError(t, os.Remove(path))
			require.NoError(t, os.WriteFile(path, build(t, 7, nil), 0o644))
			require.Equal(t, store.Swapped, reloadWithin(t, s, 5*time.Second))
			assert.Equal(t, int64(10007), apiCalls(t, s))
		})
	}
}

// reloadWithin reloads and fails the test if that blocks.
func reloadWithin(t *testing.T, s *store.Store, limit time.Duration) store.Outcome {
	t.Helper()
	done := make(chan store.Outcome, 1)
	go func() { done <- s.Reload(context.Background()) }()
	select {
	case o := <-done:
		return o
	case <-time.After(limit):
		t.Fatalf("the reload blocked for %s", limit)
		return 0
	}
}

// TestFileSourceBoundsReads: a file over the limit is refused.
func TestFileSourceBoundsReads(t *testing.T) {
	data := build(t, 5, nil)
	path := filepath.Join(t.TempDir(), "acme.bundle")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	s := store.New(bundle.New(path, bundle.Options{MaxSize: int64(len(data) - 1)}), nil)
	require.Equal(t, store.Failed, s.Reload(context.Background()))
	assert.Contains(t, s.Status().LastReload.Err, "bundle refused (oversized)")
}

// TestCompressedDownloadIsBoundedWhileStreaming serves a small gzip body
// (Content-Encoding: gzip) that expands to 64 MiB against a limit of
// 8 MiB: it is refused as oversized, having allocated about the limit,
// not several times it.
func TestCompressedDownloadIsBoundedWhileStreaming(t *testing.T) {
	const limit = 8 << 20
	var body bytes.Buffer
	zw, err := gzip.NewWriterLevel(&body, gzip.BestCompression)
	require.NoError(t, err)
	zeros := make([]byte, 1<<20)
	for range 64 {
		_, err := zw.Write(zeros)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	require.Less(t, body.Len(), 1<<20)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(body.Bytes())
	}))
	t.Cleanup(ts.Close)

	for _, cache := range []string{"", t.TempDir()} {
		s := store.New(bundle.New(ts.URL, bundle.Options{MaxSize: limit, CacheDir: cache}), nil)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		require.Equal(t, store.Failed, s.Reload(context.Background()))
		runtime.ReadMemStats(&after)
		assert.Contains(t, s.Status().LastReload.Err, "bundle refused (oversized)")
		allocated := after.TotalAlloc - before.TotalAlloc
		assert.Less(t, allocated, uint64(limit+limit/2), "allocated %d bytes for a limit of %d", allocated, limit)
	}
}

// TestStalledURLServesTheCache: a server that sends headers and 100
// bytes and hangs does not keep a sidecar with a verified cached bundle
// unready beyond the first-fetch timeout; polling then goes on.
func TestStalledURLServesTheCache(t *testing.T) {
	key := newKey(t)
	data := build(t, 5, key.priv)
	cache := t.TempDir()
	srv, ts := newServer(t, data)
	first := store.New(bundle.New(ts.URL, bundle.Options{Key: key.pub, CacheDir: cache}), nil)
	require.Equal(t, store.Swapped, first.Reload(context.Background()))
	_ = srv

	release := make(chan struct{})
	stalled := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		_, _ = w.Write(data[:100])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(stalled.Close)
	t.Cleanup(func() { close(release) })

	var logs bytes.Buffer
	l := bundle.New(stalled.URL, bundle.Options{Key: key.pub, CacheDir: cache, FirstFetchTimeout: 300 * time.Millisecond,
		Log: slog.New(slog.NewTextHandler(&logs, nil))})
	s := store.New(l, nil)
	start := time.Now()
	require.Equal(t, store.Swapped, reloadWithin(t, s, 5*time.Second))
	assert.Less(t, time.Since(start), 4*time.Second)
	assert.Equal(t, int64(10005), apiCalls(t, s))
	st := s.Status()
	assert.True(t, st.Ready)
	assert.True(t, st.Bundle.Verified)
	require.NotNil(t, st.Source.LastFetch)
	assert.Contains(t, st.Source.LastFetch.Error, "no bundle within the first-fetch timeout of 300ms")
	assert.Contains(t, logs.String(), "serving the cached bundle")
}

// TestFetchErrorsNameTheURLOnce: an unreachable URL's error names it
// once, not once from promoctl and again from the HTTP client.
func TestFetchErrorsNameTheURLOnce(t *testing.T) {
	const url = "http://127.0.0.1:1/acme.bundle"
	s := store.New(bundle.New(url, bundle.Options{}), nil)
	require.Equal(t, store.Failed, s.Reload(context.Background()))
	msg := s.Status().LastReload.Err
	assert.Equal(t, 1, bytes.Count([]byte(msg), []byte(url)), "%s", msg)
	assert.Contains(t, msg, "GET "+url+": dial tcp")
}
