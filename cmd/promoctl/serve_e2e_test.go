package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/sidecartest"
)

// These tests build the real binary, start `promoctl serve` on a free
// loopback port and talk to it over HTTP.

const (
	// deadline bounds every wait for the sidecar; it only stops a hung
	// test and is no performance claim.
	deadline  = 10 * time.Second
	pollEvery = 20 * time.Millisecond
	boostPath = "promotions/spring-api-boost.yaml"
	// cus_001's api_calls on 2026-04-01 is the starter plan's 10,000 plus
	// spring-api-boost's additive allowance (50,000 in the example).
	boostQuery = "/v1/customers/cus_001/entitlements/api_calls?at=2026-04-01T00:00:00Z"
)

func TestServeE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the sidecar")
	}
	bin := sidecartest.Build(t)

	t.Run("answers", func(t *testing.T) { testAnswers(t, bin) })
	t.Run("edit, break, fix", func(t *testing.T) { testEditBreakFix(t, bin) })
	t.Run("not ready until valid", func(t *testing.T) { testNotReadyUntilValid(t, bin) })
	t.Run("configmap ..data swap", func(t *testing.T) { testConfigMapSwap(t, bin) })
	t.Run("root symlink swap", func(t *testing.T) { testRootSymlinkSwap(t, bin) })
	t.Run("token", func(t *testing.T) { testToken(t, bin) })
	t.Run("burst under load", func(t *testing.T) { testBurstUnderLoad(t, bin) })
	t.Run("swaps under load", func(t *testing.T) { testSwapsUnderLoad(t, bin) })
	t.Run("node ofrep provider", func(t *testing.T) { testNodeOFREP(t, bin) })
	t.Run("bundle file", func(t *testing.T) { testBundleFile(t, bin) })
	t.Run("bundle url", func(t *testing.T) { testBundleURL(t, bin) })
	t.Run("repo snapshot cache", func(t *testing.T) { testRepoSnapshotCache(t, bin) })
	t.Run("unsafe paths", func(t *testing.T) { testUnsafePaths(t, bin) })
	t.Run("unsafe paths at start", func(t *testing.T) { testUnsafePathsAtStart(t, bin) })
	t.Run("emptied repo", func(t *testing.T) { testEmptiedRepo(t, bin) })
}

type sidecar struct {
	url   string
	token string
	cmd   *exec.Cmd
	logs  *sidecartest.Buffer
	// stopped is set once a test stopped the sidecar itself (stop).
	stopped bool
}

// startSidecar runs `promoctl serve --addr 127.0.0.1:0` (with --repo
// unless repo is empty) and reads the
// address it bound from its "listening" log line. Cleanup stops it with
// SIGTERM and checks that it shut down cleanly.
func startSidecar(t *testing.T, bin, repo string, args ...string) *sidecar {
	t.Helper()
	base := []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}
	if repo != "" {
		base = append(base, "--repo", repo)
	}
	args = sidecartest.OwnDataDir(t, append(base, args...))
	cmd := exec.Command(bin, args...)
	addr, logs := sidecartest.Spawn(t, cmd, deadline)
	sc := &sidecar{url: "http://" + addr, cmd: cmd, logs: logs}
	t.Cleanup(func() {
		if sc.stopped {
			return
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			assert.NoError(t, err, "graceful shutdown exits 0; logs:\n%s", sc.logs)
		case <-time.After(deadline):
			_ = cmd.Process.Kill()
			t.Errorf("sidecar did not stop on SIGTERM")
		}
		if t.Failed() {
			t.Logf("sidecar logs:\n%s", sc.logs)
		}
	})
	return sc
}

var client = &http.Client{Timeout: 5 * time.Second}

type reply struct {
	code   int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body %q", r.body)
	return v
}

func (sc *sidecar) request(method, path, body string, header ...string) (reply, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, sc.url+path, rd)
	if err != nil {
		return reply{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if sc.token != "" {
		req.Header.Set("Authorization", "Bearer "+sc.token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return reply{code: resp.StatusCode, header: resp.Header, body: b}, err
}

func (sc *sidecar) do(t *testing.T, method, path, body string, header ...string) reply {
	t.Helper()
	r, err := sc.request(method, path, body, header...)
	require.NoError(t, err)
	return r
}

func (sc *sidecar) waitReady(t *testing.T) {
	t.Helper()
	require.Eventually(t, func() bool {
		r, err := sc.request("GET", "/readyz", "")
		return err == nil && r.code == http.StatusOK
	}, deadline, pollEvery, "sidecar never became ready")
}

// allowance is the allowance of a metered decision (-1 on any failure, so
// callers can poll for a value).
func (sc *sidecar) allowance(path string) int64 {
	r, err := sc.request("GET", path, "")
	if err != nil || r.code != http.StatusOK {
		return -1
	}
	var d struct{ Allowance *int64 }
	if json.Unmarshal(r.body, &d) != nil || d.Allowance == nil {
		return -1
	}
	return *d.Allowance
}

func (sc *sidecar) waitAllowance(t *testing.T, path string, want int64, why string) {
	t.Helper()
	require.Eventually(t, func() bool { return sc.allowance(path) == want }, deadline, pollEvery,
		"%s: wanted allowance %d, last %d", why, want, sc.allowance(path))
}

// waitLog waits until the sidecar's log holds text: the log is copied from
// its stderr by another goroutine, so a line written before an HTTP answer
// may reach the buffer after it.
func (sc *sidecar) waitLog(t *testing.T, text string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(sc.logs.String(), text) }, deadline, pollEvery,
		"the sidecar logs %q; logs:\n%s", text, sc.logs)
}

func (sc *sidecar) status(t *testing.T) map[string]any {
	t.Helper()
	r := sc.do(t, "GET", "/v1/status", "")
	require.Equal(t, http.StatusOK, r.code)
	return r.json(t)
}

func (sc *sidecar) reloads(t *testing.T) (ok, failed int) {
	t.Helper()
	counts := sc.status(t)["reloads"].(map[string]any)
	return int(counts["ok"].(float64)), int(counts["failed"].(float64))
}

func copyAcme(t *testing.T, dir string) string {
	t.Helper()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../examples/acme")))
	return dir
}

// writeBoost rewrites spring-api-boost's allowance in the repo at root,
// atomically (temp file + rename), as promoctl's own edits do.
func writeBoost(t *testing.T, root, allowance string) {
	t.Helper()
	src, err := os.ReadFile("../../examples/acme/" + boostPath)
	require.NoError(t, err)
	require.Contains(t, string(src), "allowance: 50000")
	out := strings.Replace(string(src), "allowance: 50000", "allowance: "+allowance, 1)
	tmp := filepath.Join(root, "promotions", ".tmp-boost")
	require.NoError(t, os.WriteFile(tmp, []byte(out), 0o644))
	require.NoError(t, os.Rename(tmp, filepath.Join(root, boostPath)))
}

func testAnswers(t *testing.T, bin string) {
	sc := startSidecar(t, bin, copyAcme(t, t.TempDir()))
	sc.waitReady(t)
	revision := sc.status(t)["revision"].(string)

	raw, err := os.ReadFile("../../examples/acme/expected_decisions.json")
	require.NoError(t, err)
	var oracle []struct {
		Name, Customer, Feature, At string
		HasAccess                   bool     `json:"has_access"`
		Allowance                   *int64   `json:"allowance"`
		Unlimited                   *bool    `json:"unlimited"`
		Reset                       *string  `json:"reset"`
		ValidUntil                  *string  `json:"valid_until"`
		Contributing                []string `json:"contributing_promotions"`
	}
	require.NoError(t, json.Unmarshal(raw, &oracle))
	require.NotEmpty(t, oracle)
	for _, c := range oracle {
		r := sc.do(t, "GET", fmt.Sprintf("/v1/customers/%s/entitlements/%s?at=%s", c.Customer, c.Feature, c.At), "")
		require.Equal(t, http.StatusOK, r.code, c.Name)
		assert.Equal(t, `"`+revision+`"`, r.header.Get("ETag"), c.Name)
		var got struct {
			HasAccess  bool    `json:"has_access"`
			Allowance  *int64  `json:"allowance"`
			Unlimited  *bool   `json:"unlimited"`
			Reset      *string `json:"reset"`
			ValidUntil *string `json:"valid_until"`
			Sources    []struct{ Kind, ID string }
		}
		require.NoError(t, json.Unmarshal(r.body, &got), c.Name)
		promos := []string{}
		for _, s := range got.Sources {
			if s.Kind == "promotion" {
				promos = append(promos, s.ID)
			}
		}
		sort.Strings(promos)
		assert.Equal(t, c.HasAccess, got.HasAccess, c.Name)
		assert.Equal(t, c.Allowance, got.Allowance, c.Name)
		assert.Equal(t, c.Unlimited, got.Unlimited, c.Name)
		assert.Equal(t, c.Reset, got.Reset, c.Name)
		assert.Equal(t, c.ValidUntil, got.ValidUntil, c.Name)
		assert.Equal(t, c.Contributing, promos, c.Name)
	}

	// OFREP answers "now". These cases hold at any time after the
	// example's grants started: plans, and grants without an end.
	ofrep := []struct {
		name, key, context string
		code               int
		want               map[string]any
	}{
		{"sso from grants.all, forever", "sso", `{"targetingKey":"cus_005"}`, 200,
			map[string]any{"key": "sso", "value": true, "reason": "TARGETING_MATCH", "variant": "promotion:sso-for-growth", "metadata": map[string]any{}}},
		{"sso revoked exception to all", "sso", `{"targetingKey":"cus_019"}`, 200,
			map[string]any{"key": "sso", "value": false, "reason": "DEFAULT", "variant": "default", "metadata": map[string]any{}}},
		{"unlimited plan allowance", "api_calls", `{"targetingKey":"cus_003"}`, 200,
			map[string]any{"key": "api_calls", "value": 9007199254740991.0, "reason": "DEFAULT", "variant": "plan:enterprise",
				"metadata": map[string]any{"has_access": true, "unlimited": true, "reset": "monthly", "next_reset": nextMonthStart}}},
		{"plan and attributes from context", "api_calls", `{"targetingKey":"new_user","plan":"starter","region":"eu"}`, 200,
			map[string]any{"key": "api_calls", "value": 10000.0, "reason": "DEFAULT", "variant": "plan:starter",
				"metadata": map[string]any{"has_access": true, "unlimited": false, "reset": "monthly", "next_reset": nextMonthStart}}},
		{"unknown flag", "nope", `{"targetingKey":"cus_001"}`, 404, map[string]any{"key": "nope", "errorCode": "FLAG_NOT_FOUND"}},
		{"no targeting key", "sso", `{}`, 400, map[string]any{"key": "sso", "errorCode": "TARGETING_KEY_MISSING"}},
	}
	for _, c := range ofrep {
		before := time.Now()
		r := sc.do(t, "POST", "/ofrep/v1/evaluate/flags/"+c.key, `{"context":`+c.context+`}`)
		require.Equal(t, c.code, r.code, "%s: %s", c.name, r.body)
		assert.Equal(t, "application/json", r.header.Get("Content-Type"), c.name)
		got := r.json(t)
		delete(got, "errorDetails")
		if md, ok := got["metadata"].(map[string]any); ok {
			takeNextMonthStart(t, md, before, c.name)
		}
		assert.Equal(t, c.want, got, c.name)
	}

	bulk := sc.do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"cus_005"}}`)
	require.Equal(t, http.StatusOK, bulk.code)
	assert.Len(t, bulk.json(t)["flags"], 6)
	etag := bulk.header.Get("ETag")
	require.NotEmpty(t, etag)
	again := sc.do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"cus_005"}}`, "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, again.code)
}

func testEditBreakFix(t *testing.T, bin string) {
	root := copyAcme(t, t.TempDir())
	sc := startSidecar(t, bin, root)
	sc.waitReady(t)
	require.Equal(t, int64(60000), sc.allowance(boostQuery))

	written := time.Now()
	writeBoost(t, root, "7")
	sc.waitAllowance(t, boostQuery, 10007, "an edit is served")
	t.Logf("edit served %v after the write (debounce 200ms)", time.Since(written).Round(time.Millisecond))
	good := sc.status(t)["revision"].(string)

	writeBoost(t, root, "-1") // allowance must be >= 0
	require.Eventually(t, func() bool {
		_, failed := sc.reloads(t)
		return failed == 1
	}, deadline, pollEvery, "the broken edit is counted as a failed reload")
	status := sc.status(t)
	assert.Equal(t, good, status["revision"], "the last good snapshot still serves")
	last := status["last_reload"].(map[string]any)
	assert.Equal(t, false, last["ok"])
	errs := last["errors"].([]any)
	require.NotEmpty(t, errs)
	assert.Equal(t, boostPath, errs[0].(map[string]any)["file"])
	assert.Equal(t, int64(10007), sc.allowance(boostQuery), "answers are the last good ones")
	assert.Equal(t, http.StatusOK, sc.do(t, "GET", "/readyz", "").code, "still ready")

	metrics := string(sc.do(t, "GET", "/metrics", "").body)
	assert.Contains(t, metrics, `promoctl_reloads_total{result="failed"} 1`)
	assert.Contains(t, metrics, "promoctl_last_reload_ok 0")
	assert.Contains(t, metrics, `revision="`+good+`"`)
	assert.Regexp(t, `promoctl_http_requests_total\{code="200",route="GET /v1/customers/\{id\}/entitlements/\{feature\}"\} \d+`, metrics)

	writeBoost(t, root, "8")
	sc.waitAllowance(t, boostQuery, 10008, "a fix recovers")
	assert.Equal(t, true, sc.status(t)["last_reload"].(map[string]any)["ok"])
	assert.Contains(t, string(sc.do(t, "GET", "/metrics", "").body), "promoctl_last_reload_ok 1")
}

func testNotReadyUntilValid(t *testing.T, bin string) {
	root := copyAcme(t, t.TempDir())
	writeBoost(t, root, "-1")
	sc := startSidecar(t, bin, root)
	require.Eventually(t, func() bool {
		_, failed := sc.reloads(t)
		return failed == 1
	}, deadline, pollEvery, "the first load fails")

	assert.Equal(t, http.StatusServiceUnavailable, sc.do(t, "GET", "/readyz", "").code)
	assert.Equal(t, http.StatusOK, sc.do(t, "GET", "/healthz", "").code)
	r := sc.do(t, "GET", boostQuery, "")
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	assert.Equal(t, "NOT_READY", r.json(t)["error"].(map[string]any)["code"])
	assert.Equal(t, false, sc.status(t)["ready"])

	writeBoost(t, root, "50000")
	sc.waitReady(t)
	assert.Equal(t, int64(60000), sc.allowance(boostQuery))
}

// testConfigMapSwap lays the repo out as a Kubernetes ConfigMap volume does:
// the data in a timestamped dot directory, `..data` linking to it, and the
// visible entries linking through `..data`. An update writes a new
// directory and renames a new `..data` link over the old one.
func testConfigMapSwap(t *testing.T, bin string) {
	root := t.TempDir()
	copyAcme(t, filepath.Join(root, "..2026_01_01_00_00_00.1"))
	require.NoError(t, os.Symlink("..2026_01_01_00_00_00.1", filepath.Join(root, "..data")))
	for _, dir := range []string{"features", "plans", "customers", "promotions"} {
		require.NoError(t, os.Symlink(filepath.Join("..data", dir), filepath.Join(root, dir)))
	}
	sc := startSidecar(t, bin, root)
	sc.waitReady(t)
	require.Equal(t, int64(60000), sc.allowance(boostQuery))

	next := filepath.Join(root, "..2026_01_01_00_05_00.2")
	copyAcme(t, next)
	writeBoost(t, next, "11")
	require.NoError(t, os.Symlink("..2026_01_01_00_05_00.2", filepath.Join(root, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(root, "..data_tmp"), filepath.Join(root, "..data")))
	require.NoError(t, os.RemoveAll(filepath.Join(root, "..2026_01_01_00_00_00.1")))
	sc.waitAllowance(t, boostQuery, 10011, "the ..data swap is served")
}

// testRootSymlinkSwap points --repo at a link that git-sync style updates
// swap to a new worktree.
func testRootSymlinkSwap(t *testing.T, bin string) {
	base := t.TempDir()
	copyAcme(t, filepath.Join(base, "rev1"))
	link := filepath.Join(base, "repo")
	require.NoError(t, os.Symlink("rev1", link))
	sc := startSidecar(t, bin, link)
	sc.waitReady(t)
	require.Equal(t, int64(60000), sc.allowance(boostQuery))

	rev2 := copyAcme(t, filepath.Join(base, "rev2"))
	writeBoost(t, rev2, "12")
	require.NoError(t, os.Symlink("rev2", filepath.Join(base, ".repo-tmp")))
	require.NoError(t, os.Rename(filepath.Join(base, ".repo-tmp"), link))
	sc.waitAllowance(t, boostQuery, 10012, "the new root is served")

	writeBoost(t, rev2, "13")
	sc.waitAllowance(t, boostQuery, 10013, "edits in the new root are watched")
}

func testToken(t *testing.T, bin string) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("e2e-secret\n"), 0o600))
	sc := startSidecar(t, bin, copyAcme(t, t.TempDir()), "--token-file", tokenFile)
	sc.waitReady(t)

	for _, c := range []struct {
		name   string
		header []string
		code   int
	}{
		{"missing", nil, 401},
		{"wrong bearer", []string{"Authorization", "Bearer wrong"}, 401},
		{"wrong api key", []string{"X-API-Key", "wrong"}, 401},
		{"bearer", []string{"Authorization", "Bearer e2e-secret"}, 200},
		{"api key", []string{"X-API-Key", "e2e-secret"}, 200},
	} {
		r := sc.do(t, "GET", boostQuery, "", c.header...)
		assert.Equal(t, c.code, r.code, c.name)
		if c.code == 401 {
			assert.Equal(t, "UNAUTHENTICATED", r.json(t)["error"].(map[string]any)["code"], c.name)
		}
		r = sc.do(t, "POST", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"cus_005"}}`, c.header...)
		assert.Equal(t, c.code, r.code, "ofrep "+c.name)
	}
	assert.Equal(t, 200, sc.do(t, "GET", "/metrics", "").code, "metrics stay open")
	assert.NotContains(t, sc.logs.String(), "e2e-secret", "the token is never logged")
}

// testBurstUnderLoad writes the same file 100 times, some writes broken,
// while clients keep asking: every request must succeed and the burst must
// coalesce into a few reloads.
func testBurstUnderLoad(t *testing.T, bin string) {
	root := copyAcme(t, t.TempDir())
	sc := startSidecar(t, bin, root)
	sc.waitReady(t)
	ok0, failed0 := sc.reloads(t)

	var stop atomic.Bool
	var requests, failures atomic.Int64
	var firstFailure atomic.Value
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				var r reply
				var err error
				if i%2 == 0 {
					r, err = sc.request("GET", boostQuery, "")
				} else {
					r, err = sc.request("POST", "/ofrep/v1/evaluate/flags/api_calls", `{"context":{"targetingKey":"cus_001"}}`)
				}
				requests.Add(1)
				if err != nil || r.code != http.StatusOK {
					failures.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("err=%v code=%d body=%s", err, r.code, r.body))
				}
			}
		}()
	}

	for i := range 100 {
		allowance := fmt.Sprint(50000 + i)
		if i%10 == 5 {
			allowance = "-1" // broken
		}
		writeBoost(t, root, allowance)
		time.Sleep(time.Millisecond)
	}
	writeBoost(t, root, "50100")
	sc.waitAllowance(t, boostQuery, 60100, "the last write wins")
	ok1, failed1 := sc.reloads(t)
	reloads := (ok1 - ok0) + (failed1 - failed0)
	t.Logf("101 writes -> %d reloads (%d ok, %d failed); %d requests so far", reloads, ok1-ok0, failed1-failed0, requests.Load())
	assert.GreaterOrEqual(t, reloads, 1)
	assert.LessOrEqual(t, reloads, 5, "debounce coalesces a burst")

	// Then a break that is loaded and refused, and a fix, still under load.
	writeBoost(t, root, "-1")
	require.Eventually(t, func() bool {
		_, failed := sc.reloads(t)
		return failed > failed1
	}, deadline, pollEvery, "the broken write is loaded and refused")
	writeBoost(t, root, "50200")
	sc.waitAllowance(t, boostQuery, 60200, "the fix is served")

	stop.Store(true)
	wg.Wait()
	t.Logf("%d requests in all", requests.Load())
	assert.Positive(t, requests.Load())
	assert.Zero(t, failures.Load(), "no failed request while files change and break (first: %v)", firstFailure.Load())
}

// testNodeOFREP runs the official OpenFeature OFREP provider (Node) against
// the sidecar.
func testNodeOFREP(t *testing.T, bin string) {
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Skip("npm is not on PATH: the Node OFREP check needs Node 20 and npm")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	dir, err := filepath.Abs("../../examples/clients/node")
	require.NoError(t, err)
	ci := exec.Command(npm, "ci", "--no-audit", "--no-fund")
	ci.Dir = dir
	out, err := ci.CombinedOutput()
	require.NoError(t, err, "npm ci: %s", out)

	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("node-token"), 0o600))
	sc := startSidecar(t, bin, copyAcme(t, t.TempDir()), "--token-file", tokenFile)
	sc.token = "node-token"
	sc.waitReady(t)

	cases := `[
	  {"customer":"cus_005","feature":"sso","kind":"boolean","default":false},
	  {"customer":"cus_001","feature":"sso","kind":"boolean","default":true},
	  {"customer":"cus_003","feature":"api_calls","kind":"number","default":0},
	  {"customer":"new_user","feature":"api_calls","kind":"number","default":0,"context":{"plan":"starter","region":"eu"}},
	  {"customer":"cus_001","feature":"no_such_feature","kind":"boolean","default":false}
	]`
	casesFile := filepath.Join(t.TempDir(), "cases.json")
	require.NoError(t, os.WriteFile(casesFile, []byte(cases), 0o644))
	before := time.Now()
	check := exec.Command(node, "check.mjs", "--base-url", sc.url, "--token", "node-token", "--cases", casesFile)
	check.Dir = dir
	var stderr bytes.Buffer
	check.Stderr = &stderr
	stdout, err := check.Output()
	require.NoError(t, err, "check.mjs: %s", stderr.String())

	type line struct {
		Feature      string
		Customer     string
		Value        any
		Reason       *string
		ErrorCode    *string
		FlagMetadata map[string]any
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(string(stdout)), "\n") {
		var ln line
		require.NoError(t, json.Unmarshal([]byte(l), &ln), l)
		got = append(got, ln)
	}
	require.Len(t, got, 5, "%s", stdout)

	assert.Equal(t, true, got[0].Value)
	assert.Equal(t, "TARGETING_MATCH", *got[0].Reason)
	assert.Nil(t, got[0].ErrorCode)

	assert.Equal(t, false, got[1].Value, "the sidecar's false beats the default true")
	assert.Nil(t, got[1].ErrorCode)

	assert.Equal(t, 9007199254740991.0, got[2].Value)
	takeNextMonthStart(t, got[2].FlagMetadata, before, "cus_003 api_calls")
	assert.Equal(t, map[string]any{"has_access": true, "unlimited": true, "reset": "monthly", "next_reset": nextMonthStart}, got[2].FlagMetadata)

	assert.Equal(t, 10000.0, got[3].Value)
	assert.Nil(t, got[3].ErrorCode)

	require.NotNil(t, got[4].ErrorCode)
	assert.Equal(t, "FLAG_NOT_FOUND", *got[4].ErrorCode)
	assert.Equal(t, false, got[4].Value)
}

// nextMonthStart stands in an expected answer for the next_reset of a plan
// that resets monthly on the calendar, which depends on when it is asked.
const nextMonthStart = "<the start of the next UTC month>"

// takeNextMonthStart checks that md's next_reset is the start of the UTC
// month after an instant between before and now (a month may turn in
// between), and replaces it with nextMonthStart.
func takeNextMonthStart(t *testing.T, md map[string]any, before time.Time, name string) {
	t.Helper()
	got, ok := md["next_reset"]
	if !ok {
		return
	}
	next := func(at time.Time) string {
		y, m, _ := at.UTC().Date()
		return time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
	}
	assert.Contains(t, []string{next(before), next(time.Now())}, got, "%s: next_reset", name)
	md["next_reset"] = nextMonthStart
}
