package main

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stop sends SIGTERM and returns how long the sidecar took to exit 0.
func (sc *sidecar) stop(t *testing.T) time.Duration {
	t.Helper()
	sc.stopped = true
	start := time.Now()
	require.NoError(t, sc.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- sc.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "graceful shutdown exits 0; logs:\n%s", sc.logs)
	case <-time.After(2 * shutdownGrace):
		_ = sc.cmd.Process.Kill()
		t.Fatalf("sidecar did not stop on SIGTERM; logs:\n%s", sc.logs)
	}
	return time.Since(start)
}

// lastReloadCodes returns whether the last reload succeeded, its error and
// the codes of its validation errors.
func (sc *sidecar) lastReload(t *testing.T) (ok bool, errText string, codes []string) {
	t.Helper()
	last, _ := sc.status(t)["last_reload"].(map[string]any)
	if last == nil {
		return false, "", nil
	}
	errText, _ = last["error"].(string)
	errs, _ := last["errors"].([]any)
	for _, e := range errs {
		codes = append(codes, e.(map[string]any)["code"].(string))
	}
	return last["ok"] == true, errText, codes
}

// addUnsafePaths puts a named pipe, a link to a device and a link out of
// the repo into the repo at root.
func addUnsafePaths(t *testing.T, root, outside string) {
	t.Helper()
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "promotions", "pipe.yaml"), 0o644))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(root, "features", "zero.yaml")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "plans", "leak.yaml")))
}

func removeUnsafePaths(t *testing.T, root string) {
	t.Helper()
	for _, p := range []string{"promotions/pipe.yaml", "features/zero.yaml", "plans/leak.yaml"} {
		require.NoError(t, os.Remove(filepath.Join(root, p)))
	}
}

func writeSecret(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret.yaml")
	require.NoError(t, os.WriteFile(p, []byte("kind: Feature\nkey: TOP-SECRET\nname: x\ntype: boolean\n"), 0o600))
	return p
}

// testUnsafePaths: a named pipe, a device link and a link out of the repo
// appearing under a serving sidecar fail the reload (last good kept, the
// status says where), never wedge the reload loop — edits apply again as
// soon as they are gone — and never keep SIGTERM from stopping the
// process within its grace period.
func testUnsafePaths(t *testing.T, bin string) {
	root := copyAcme(t, t.TempDir())
	secret := writeSecret(t)
	sc := startSidecar(t, bin, root)
	sc.waitReady(t)
	require.Equal(t, int64(60000), sc.allowance(boostQuery))

	addUnsafePaths(t, root, secret)
	require.Eventually(t, func() bool { _, failed := sc.reloads(t); return failed == 1 }, deadline, pollEvery)
	ok, _, codes := sc.lastReload(t)
	assert.False(t, ok)
	assert.Equal(t, []string{"UNSAFE_PATH", "UNSAFE_PATH", "UNSAFE_PATH"}, codes)
	assert.Equal(t, int64(60000), sc.allowance(boostQuery), "the last good snapshot serves")
	assert.NotContains(t, sc.logs.String(), "TOP-SECRET")
	assert.NotContains(t, string(sc.do(t, "GET", "/v1/status", "").body), "TOP-SECRET")

	// The loop is not wedged: once the paths are gone, an edit applies.
	writeBoost(t, root, "11")
	removeUnsafePaths(t, root)
	sc.waitAllowance(t, boostQuery, 10011, "an edit after the unsafe paths are gone")

	addUnsafePaths(t, root, secret)
	require.Eventually(t, func() bool { _, failed := sc.reloads(t); return failed == 2 }, deadline, pollEvery)
	assert.Less(t, sc.stop(t), shutdownGrace, "stops within the grace period")
}

// testUnsafePathsAtStart: a sidecar started on a repo holding them is up
// (healthy, not ready, the errors in its status) and stops on SIGTERM.
func testUnsafePathsAtStart(t *testing.T, bin string) {
	root := copyAcme(t, t.TempDir())
	addUnsafePaths(t, root, writeSecret(t))
	sc := startSidecar(t, bin, root)
	require.Eventually(t, func() bool { _, failed := sc.reloads(t); return failed == 1 }, deadline, pollEvery)
	assert.Equal(t, http.StatusOK, sc.do(t, "GET", "/healthz", "").code)
	assert.Equal(t, http.StatusServiceUnavailable, sc.do(t, "GET", "/readyz", "").code)
	_, _, codes := sc.lastReload(t)
	assert.Equal(t, []string{"UNSAFE_PATH", "UNSAFE_PATH", "UNSAFE_PATH"}, codes)

	removeUnsafePaths(t, root)
	sc.waitReady(t)
	assert.Equal(t, int64(60000), sc.allowance(boostQuery))
	assert.Less(t, sc.stop(t), shutdownGrace, "stops within the grace period")
}

// testEmptiedRepo: `rm -rf repo/*` under a serving sidecar, then a repo
// without any Feature, are refused reloads: answers keep coming from the
// last good snapshot, and status and metrics show the failure.
func testEmptiedRepo(t *testing.T, bin string) {
	root := copyAcme(t, t.TempDir())
	sc := startSidecar(t, bin, root)
	sc.waitReady(t)

	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	for _, e := range entries {
		require.NoError(t, os.RemoveAll(filepath.Join(root, e.Name())))
	}
	require.Eventually(t, func() bool { _, failed := sc.reloads(t); return failed == 1 }, deadline, pollEvery)
	ok, errText, _ := sc.lastReload(t)
	assert.False(t, ok)
	assert.Contains(t, errText, "no config files")
	assert.Equal(t, int64(60000), sc.allowance(boostQuery), "the last good snapshot serves")
	assert.Equal(t, http.StatusOK, sc.do(t, "GET", "/readyz", "").code)
	metrics := string(sc.do(t, "GET", "/metrics", "").body)
	assert.Contains(t, metrics, "promoctl_last_reload_ok 0")
	assert.Contains(t, metrics, `promoctl_reloads_total{result="failed"} 1`)

	// Config files come back, but no Feature among them.
	copyAcme(t, root)
	require.NoError(t, os.RemoveAll(filepath.Join(root, "features")))
	require.Eventually(t, func() bool {
		_, _, codes := sc.lastReload(t)
		return slices.Contains(codes, "NO_FEATURES")
	}, deadline, pollEvery)
	assert.Equal(t, int64(60000), sc.allowance(boostQuery), "the last good snapshot serves")
}
