package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildBundle runs promoctl build on repo into out (atomically: a sidecar
// watching out's directory sees one rename).
func buildBundle(t *testing.T, bin, repo, out string, args ...string) {
	t.Helper()
	tmp := out + ".tmp"
	cmd := exec.Command(bin, append([]string{"build", "--repo", repo, "--out", tmp}, args...)...)
	b, err := cmd.CombinedOutput()
	require.NoError(t, err, "build: %s", b)
	require.NoError(t, os.Rename(tmp, out))
}

func keygen(t *testing.T, bin, name string) {
	t.Helper()
	b, err := exec.Command(bin, "keygen", "--out", name).CombinedOutput()
	require.NoError(t, err, "keygen: %s", b)
}

func testBundleFile(t *testing.T, bin string) {
	dir := t.TempDir()
	repo := copyAcme(t, filepath.Join(dir, "repo"))
	out := filepath.Join(dir, "dist", "acme.bundle")
	require.NoError(t, os.Mkdir(filepath.Dir(out), 0o755))
	keygen(t, bin, filepath.Join(dir, "ci"))
	buildBundle(t, bin, repo, out, "--sign-key", filepath.Join(dir, "ci.key"))

	sc := startSidecar(t, bin, "", "--bundle", out, "--verify-key", filepath.Join(dir, "ci.pub"))
	sc.waitReady(t)
	assert.Equal(t, int64(60000), sc.allowance(boostQuery))
	st := sc.status(t)
	assert.Equal(t, "bundle file", st["source"].(map[string]any)["kind"])
	assert.Equal(t, true, st["bundle"].(map[string]any)["verified"])

	writeBoost(t, repo, "7")
	buildBundle(t, bin, repo, out, "--sign-key", filepath.Join(dir, "ci.key"))
	sc.waitAllowance(t, boostQuery, 10007, "a new bundle file serves")

	writeBoost(t, repo, "9")
	buildBundle(t, bin, repo, out) // unsigned
	require.Eventually(t, func() bool {
		lr, _ := sc.status(t)["last_reload"].(map[string]any)
		msg, _ := lr["error"].(string)
		return strings.Contains(msg, "bundle refused (unsigned)")
	}, deadline, pollEvery, "the refusal shows in /v1/status")
	assert.Equal(t, int64(10007), sc.allowance(boostQuery), "the last good bundle keeps serving")
	sc.waitLog(t, "bundle refused (unsigned)")
}

// bundleServer serves one file with an ETag, as a static server or an
// object store would, or 503 while it is down.
type bundleServer struct {
	mu   sync.Mutex
	path string
	down bool
}

func (s *bundleServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	info, err := os.Stat(s.path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	etag := fmt.Sprintf(`"%d-%d"`, info.Size(), info.ModTime().UnixNano())
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	http.ServeFile(w, r, s.path)
}

func testBundleURL(t *testing.T, bin string) {
	dir := t.TempDir()
	repo := copyAcme(t, filepath.Join(dir, "repo"))
	published := filepath.Join(dir, "published.bundle")
	keygen(t, bin, filepath.Join(dir, "ci"))
	buildBundle(t, bin, repo, published, "--sign-key", filepath.Join(dir, "ci.key"))
	older, err := os.ReadFile(published)
	require.NoError(t, err)
	bs := &bundleServer{path: published}
	ts := httptest.NewServer(bs)
	t.Cleanup(ts.Close)
	cache := filepath.Join(dir, "cache")
	args := []string{"--bundle", ts.URL + "/acme.bundle", "--verify-key", filepath.Join(dir, "ci.pub"), "--cache-dir", cache, "--poll", "100ms"}

	t.Run("polls", func(t *testing.T) {
		sc := startSidecar(t, bin, "", args...)
		sc.waitReady(t)
		assert.Equal(t, int64(60000), sc.allowance(boostQuery))
		src := sc.status(t)["source"].(map[string]any)
		assert.Equal(t, "bundle url", src["kind"])
		assert.Equal(t, ts.URL+"/acme.bundle", src["location"])
		assert.Equal(t, true, src["last_fetch"].(map[string]any)["ok"])
		assert.FileExists(t, filepath.Join(cache, "bundle"))

		writeBoost(t, repo, "7")
		buildBundle(t, bin, repo, published, "--sign-key", filepath.Join(dir, "ci.key"))
		sc.waitAllowance(t, boostQuery, 10007, "a new published bundle serves")
		require.Eventually(t, func() bool {
			return sc.status(t)["source"].(map[string]any)["last_fetch"].(map[string]any)["not_modified"] == true
		}, deadline, pollEvery, "later polls get 304")
		metrics := sc.do(t, "GET", "/metrics", "")
		assert.Contains(t, string(metrics.body), `promoctl_bundle_last_fetch_ok 1`)
		assert.Contains(t, string(metrics.body), `promoctl_source_info{kind="bundle url"`)
		assert.Contains(t, sc.logs.String(), `"poll":"100ms"`)
		assert.Contains(t, sc.logs.String(), `"debounce":"200ms"`)

		// The older bundle, signed with the same key, published again: a
		// rollback, refused; the newer one keeps serving, verified.
		rollback := filepath.Join(dir, "rollback.bundle")
		require.NoError(t, os.WriteFile(rollback, older, 0o644))
		require.NoError(t, os.Rename(rollback, published))
		require.Eventually(t, func() bool {
			lr, _ := sc.status(t)["last_reload"].(map[string]any)
			msg, _ := lr["error"].(string)
			return strings.Contains(msg, "ROLLBACK_REFUSED") && strings.Contains(msg, "--allow-rollback")
		}, deadline, pollEvery, "the rollback and the flag that accepts it show in /v1/status")
		assert.Equal(t, int64(10007), sc.allowance(boostQuery), "the newer bundle keeps serving")
		assert.Equal(t, true, sc.status(t)["bundle"].(map[string]any)["verified"])
		sc.waitLog(t, "ROLLBACK_REFUSED")
	})
	t.Run("serves an older bundle with --allow-rollback", func(t *testing.T) {
		sc := startSidecar(t, bin, "", append(args, "--allow-rollback")...)
		sc.waitAllowance(t, boostQuery, 60000, "the older bundle serves")
	})
	t.Run("starts from the cache when the URL is down", func(t *testing.T) {
		bs.mu.Lock()
		bs.down = true
		bs.mu.Unlock()
		sc := startSidecar(t, bin, "", args...)
		sc.waitReady(t)
		assert.Equal(t, int64(60000), sc.allowance(boostQuery), "the cache holds what served last")
		fetch := sc.status(t)["source"].(map[string]any)["last_fetch"].(map[string]any)
		assert.Equal(t, false, fetch["ok"])
		assert.Contains(t, fetch["error"], "503 Service Unavailable")
	})
}

func testRepoSnapshotCache(t *testing.T, bin string) {
	dir := t.TempDir()
	repo := copyAcme(t, filepath.Join(dir, "repo"))
	cache := filepath.Join(dir, "cache")
	t.Run("first start writes the cache", func(t *testing.T) {
		sc := startSidecar(t, bin, repo, "--cache-dir", cache)
		sc.waitReady(t)
		require.Eventually(t, func() bool {
			_, err := os.Stat(filepath.Join(cache, "snapshot.bundle"))
			return err == nil
		}, deadline, pollEvery)
	})
	t.Run("restart starts from it", func(t *testing.T) {
		sc := startSidecar(t, bin, repo, "--cache-dir", cache)
		sc.waitReady(t)
		sc.waitLog(t, "starting from the snapshot cache")
		assert.Equal(t, int64(60000), sc.allowance(boostQuery))
		writeBoost(t, repo, "3")
		sc.waitAllowance(t, boostQuery, 10003, "a change after a start from the cache")
	})
}
