package server_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/server"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// The HTTP benchmark (BENCHMARKS.md) compares the single-decision route with a
// bare net/http handler that returns the same bytes, both behind the same
// http.Server settings, driven by the same keep-alive client in the same
// run. Rounds alternate bare, promoctl, bare, promoctl so that drift on a
// shared machine (thermal, noisy neighbours) hits both sides alike.
const (
	loadClients = 32 // concurrent keep-alive connections
	loadRounds  = 5  // rounds per side: fewer made the ratio swing by ±0.06 between runs
	warmup      = 500 * time.Millisecond
)

// roundDuration is how long each round lasts: 3 s, or
// PROMOCTL_BENCH_HTTP_ROUND (a Go duration such as 10s).
func roundDuration(b testing.TB) time.Duration {
	v := os.Getenv("PROMOCTL_BENCH_HTTP_ROUND")
	if v == "" {
		return 3 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("PROMOCTL_BENCH_HTTP_ROUND=%q: want a positive Go duration", v)
	}
	return d
}

// benchSizes are the data sets to serve: S, or PROMOCTL_BENCH_SIZES.
func benchSizes() []string {
	if v := os.Getenv("PROMOCTL_BENCH_SIZES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"S"}
}

// staticSource serves one snapshot, always ready.
type staticSource struct{ snap *snapshot.Snapshot }

func (s staticSource) Snapshot() *snapshot.Snapshot { return s.snap }

func (s staticSource) Status() store.Status {
	return store.Status{Ready: true, Revision: s.snap.Revision, ContentHash: s.snap.Revision, LoadedAt: s.snap.BuiltAt, Counts: s.snap.Counts}
}

// compiled generates a preset once into root (repogen.Cached) and compiles it.
func compiled(tb testing.TB, root, size string) *snapshot.Snapshot {
	tb.Helper()
	dir, err := repogen.Cached(root, size, 1)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if !res.OK() {
		tb.Fatalf("generated %s is invalid: %v", size, res.Diagnostics.Errors()[0])
	}
	snap, err := snapshot.Build(res.Model, res.ContentHash)
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

// hotPath is what the HTTP benchmark asks: a small answer (about 470
// bytes: a metered feature the hot customer has from its plan alone, one
// bucket) with an at= query, the common case of a service asking its
// sidecar. largePath asks for the customer with 10 contributing
// promotions (11 sources and buckets, several KiB); the server's clock
// stands at repogen.HotAt, so it needs no query string.
var (
	hotPath   = "/v1/customers/" + repogen.HotCustomer1 + "/entitlements/seats?at=" + repogen.HotAtRFC3339
	largePath = "/v1/customers/" + repogen.HotCustomer10 + "/entitlements/" + repogen.HotFeature
)

// side is one server under load.
type side struct {
	name string
	url  string
	srv  *http.Server
}

// listen starts h behind the sidecar's http.Server settings on a loopback
// port of its own.
func listen(tb testing.TB, name string, h http.Handler) *side {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := server.HTTPServer(ln.Addr().String(), h, nil)
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(func() { _ = srv.Close() })
	return &side{name: name, url: "http://" + ln.Addr().String() + hotPath, srv: srv}
}

// The servers under load run in a process of their own, as the sidecar
// does, so that client and server can each be pinned to a core (taskset)
// and the server's allocations are counted without the client's. The test
// binary is that process when serverEnv names a data set.
const (
	serverEnv     = "PROMOCTL_BENCH_HTTP_SERVER"      // data set to serve
	serverRootEnv = "PROMOCTL_BENCH_HTTP_SERVER_ROOT" // where it is generated ("" = the default cache)
	readyPrefix   = "http-bench-servers "
)

// TestHTTPBenchServer is the server process of the HTTP benchmark: it
// serves the single-decision route and a bare handler returning the same
// bytes, each on a loopback port, plus a control port answering the
// process's heap allocations so far; prints their addresses; and serves
// until its standard input closes. Without serverEnv it does nothing.
func TestHTTPBenchServer(t *testing.T) {
	size := os.Getenv(serverEnv)
	if size == "" {
		t.Skip("the HTTP benchmark's server process; started by the benchmark")
	}
	snap := compiled(t, os.Getenv(serverRootEnv), size)
	promoctl := listen(t, "promoctl", server.New(server.Config{Source: staticSource{snap}, Now: func() time.Time { return repogen.HotAt }}))
	tr := newTransport()
	sample, err := fetch(tr, promoctl.url)
	tr.CloseIdleConnections()
	if err != nil {
		t.Fatal(err)
	}
	bare := listen(t, "bare", fixedBody(sample))
	control := listen(t, "control", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		_, _ = io.WriteString(w, strconv.FormatUint(ms.Mallocs, 10))
	}))
	fmt.Printf("%s%s %s %s %d\n", readyPrefix, promoctl.url, bare.url, control.url, len(sample))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// servers are the addresses of a server process.
type servers struct {
	promoctl, bare, control string
	bodySize                int
	pid                     int // taskset execs the test binary: one process
}

// startServers starts the server process for a data set, on the cores in
// cpus (a taskset list such as "0") when cpus is not empty, and stops it
// when tb ends.
func startServers(tb testing.TB, root, size, cpus string) servers {
	tb.Helper()
	args := []string{os.Args[0], "-test.run=^TestHTTPBenchServer$", "-test.count=1", "-test.timeout=0"}
	if cpus != "" {
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...) // #nosec G204 -- the test binary itself
	cmd.Env = append(os.Environ(), serverEnv+"="+size, serverRootEnv+"="+root)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start the server process: %v", err)
	}
	tb.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		rest, ok := strings.CutPrefix(lines.Text(), readyPrefix)
		if !ok {
			continue
		}
		var out servers
		if _, err := fmt.Sscan(rest, &out.promoctl, &out.bare, &out.control, &out.bodySize); err != nil {
			tb.Fatalf("server process said %q: %v", rest, err)
		}
		go func() { _, _ = io.Copy(io.Discard, stdout) }()
		out.pid = cmd.Process.Pid
		return out
	}
	tb.Fatalf("the server process ended before serving: %v", lines.Err())
	return servers{}
}

// pinSelf pins every thread of this process to the cores in cpus and runs
// Go on one of them; the returned function undoes both.
func pinSelf(tb testing.TB, cpus string) func() {
	tb.Helper()
	pid := strconv.Itoa(os.Getpid())
	out, err := exec.Command("taskset", "-p", pid).Output() // "pid 42's current affinity mask: 3"
	if err != nil {
		tb.Fatalf("taskset -p: %v", err)
	}
	fields := strings.Fields(string(out))
	mask := fields[len(fields)-1]
	if out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, pid).CombinedOutput(); err != nil {
		tb.Fatalf("taskset -a -p -c %s: %v: %s", cpus, err, out)
	}
	procs := runtime.GOMAXPROCS(strings.Count(cpus, ",") + 1)
	return func() {
		runtime.GOMAXPROCS(procs)
		if out, err := exec.Command("taskset", "-a", "-p", mask, pid).CombinedOutput(); err != nil {
			tb.Errorf("taskset -a -p %s: %v: %s", mask, err, out)
		}
	}
}

// fixedBody is the bare handler: the same bytes every time, with the
// Content-Type any JSON API sets and a Content-Length, so that it is never
// chunked (its best case, as promoctl's answers are never chunked either).
func fixedBody(body []byte) http.Handler {
	length := strconv.Itoa(len(body))
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", length)
		_, _ = w.Write(body)
	})
}

// newTransport keeps one idle connection per client so every request
// reuses a connection.
func newTransport() *http.Transport {
	return &http.Transport{
		MaxIdleConns:        loadClients,
		MaxIdleConnsPerHost: loadClients,
		MaxConnsPerHost:     loadClients,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
}

// fetch makes one request and returns the body of a 200 answer.
func fetch(tr http.RoundTripper, url string) ([]byte, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}

// load is what one round measured.
type load struct {
	requests  int
	failures  int
	firstErr  error
	elapsed   time.Duration
	latencies []time.Duration
	mallocs   uint64 // heap allocations of the server process
}

func (l *load) add(o load) {
	l.requests += o.requests
	l.failures += o.failures
	if l.firstErr == nil {
		l.firstErr = o.firstErr
	}
	l.elapsed += o.elapsed
	l.latencies = append(l.latencies, o.latencies...)
	l.mallocs += o.mallocs
}

func (l *load) perSecond() float64 { return float64(l.requests) / l.elapsed.Seconds() }

// percentile of the latencies, which must be sorted.
func (l *load) percentile(p int) time.Duration {
	if len(l.latencies) == 0 {
		return 0
	}
	return l.latencies[(len(l.latencies)-1)*p/100]
}

// drive sends GETs to url from loadClients goroutines for d, each waiting
// for its answer before the next (closed loop), and stops by itself. Every
// answer must be a 200 of wantSize bytes.
func drive(tr http.RoundTripper, url string, wantSize int, d time.Duration) load {
	results := make([]load, loadClients)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() {
			res := &results[i]
			res.latencies = make([]time.Duration, 0, 1<<14)
			req, err := http.NewRequest(http.MethodGet, url, nil)
			if err != nil {
				res.failures, res.firstErr = 1, err
				return
			}
			for t := time.Now(); t.Before(deadline); {
				err := roundTrip(tr, req, wantSize)
				now := time.Now()
				res.requests++
				res.latencies = append(res.latencies, now.Sub(t))
				if err != nil {
					res.failures++
					if res.firstErr == nil {
						res.firstErr = err
					}
				}
				t = now
			}
		})
	}
	wg.Wait()
	total := load{elapsed: time.Since(start)}
	for _, r := range results {
		r.elapsed = 0
		total.add(r)
	}
	return total
}

var errShortBody = errors.New("answer of an unexpected size")

func roundTrip(tr http.RoundTripper, req *http.Request, wantSize int) error {
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %s", resp.Status)
	case int(n) != wantSize:
		return fmt.Errorf("%w: %d bytes, want %d", errShortBody, n, wantSize)
	}
	return nil
}

// comparison is the outcome of a full alternating run.
type comparison struct {
	bodySize       int
	bare, promoctl load
}

// mallocs asks the server process for its heap allocations so far.
func mallocs(tb testing.TB, tr http.RoundTripper, control string) uint64 {
	tb.Helper()
	body, err := fetch(tr, control)
	if err != nil {
		tb.Fatal(err)
	}
	n, err := strconv.ParseUint(string(body), 10, 64)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// compare alternates rounds of d on each side of a server process.
func compare(tb testing.TB, srv servers, rounds int, d time.Duration) comparison {
	tb.Helper()
	tr := newTransport()
	defer tr.CloseIdleConnections()
	for _, url := range []string{srv.bare, srv.promoctl} {
		if w := drive(tr, url, srv.bodySize, warmup); w.failures > 0 {
			tb.Fatalf("%s warm-up: %d of %d requests failed, first: %v", url, w.failures, w.requests, w.firstErr)
		}
	}
	round := func(url string) load {
		runtime.GC() // start each round with the same heap
		before := mallocs(tb, tr, srv.control)
		l := drive(tr, url, srv.bodySize, d)
		l.mallocs = mallocs(tb, tr, srv.control) - before - 1 // less the control request's own
		return l
	}
	out := comparison{bodySize: srv.bodySize}
	for range rounds {
		out.bare.add(round(srv.bare))
		out.promoctl.add(round(srv.promoctl))
	}
	for _, l := range []*load{&out.bare, &out.promoctl} {
		slices.Sort(l.latencies)
	}
	return out
}

// serverCPU and clientCPU are the cores of the pinned run.
const serverCPU, clientCPU = "0", "1"

// BenchmarkHTTPDecision reports requests per second and p99 latency of the
// single-decision route and of the bare handler, and their ratio
// (BENCHMARKS.md target: ratio ≥ 0.75), twice in the same run: with client
// and server unpinned, then with the server process on one core and the
// client on the other (pinned-*; skipped with a note when taskset or a
// second core is missing). Allocations are the server process's. One call
// measures a whole run; run it with -benchtime=1x.
func BenchmarkHTTPDecision(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size, func(b *testing.B) {
			report := func(prefix string, c comparison) {
				for _, l := range []load{c.bare, c.promoctl} {
					if l.failures > 0 {
						b.Fatalf("%d of %d requests failed, first: %v", l.failures, l.requests, l.firstErr)
					}
				}
				perReq := func(l load) float64 { return float64(l.mallocs) / float64(l.requests) }
				b.ReportMetric(c.bare.perSecond(), prefix+"bare-req/s")
				b.ReportMetric(c.promoctl.perSecond(), prefix+"promoctl-req/s")
				b.ReportMetric(c.promoctl.perSecond()/c.bare.perSecond(), prefix+"ratio")
				b.ReportMetric(float64(c.bare.percentile(99).Microseconds()), prefix+"bare-p99-µs")
				b.ReportMetric(float64(c.promoctl.percentile(99).Microseconds()), prefix+"promoctl-p99-µs")
				b.ReportMetric(perReq(c.promoctl)-perReq(c.bare), prefix+"promoctl-extra-allocs/req")
			}
			srv := startServers(b, "", size, "")
			c := compare(b, srv, loadRounds, roundDuration(b))
			b.ReportMetric(0, "ns/op") // one op is a whole run: meaningless
			b.ReportMetric(float64(c.bodySize), "body-bytes")
			report("", c)
			if _, err := exec.LookPath("taskset"); err != nil || runtime.NumCPU() < 2 {
				b.Logf("pinned run skipped: needs taskset (util-linux) and 2 cores (have %d, taskset: %v)", runtime.NumCPU(), err)
				return
			}
			pinned := startServers(b, "", size, serverCPU)
			restore := pinSelf(b, clientCPU)
			c = compare(b, pinned, loadRounds, roundDuration(b))
			restore()
			report("pinned-", c)
		})
	}
}

// TestHTTPDecisionHarness runs the benchmark's load briefly as a
// correctness check: both sides answer every request with a 200 of the
// same size, and the figures the benchmark reports are defined.
func TestHTTPDecisionHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("drives load for a few hundred milliseconds")
	}
	srv := startServers(t, t.TempDir(), "S", "")
	c := compare(t, srv, 1, 200*time.Millisecond)
	for name, l := range map[string]load{"bare": c.bare, "promoctl": c.promoctl} {
		assert.Zero(t, l.failures, "%s: first failure: %v", name, l.firstErr)
		assert.Positive(t, l.requests, name)
		assert.Len(t, l.latencies, l.requests, name)
		assert.True(t, slices.IsSorted(l.latencies), name)
		assert.Positive(t, l.percentile(99), name)
		assert.Positive(t, l.mallocs, "%s: the server process's allocations", name)
	}
	assert.InDelta(t, 500, c.bodySize, 100, "a small answer, as services mostly get")
}

// The pinned run's server process runs on the core it was given, and
// pinning the client is undone afterwards.
func TestHTTPDecisionPinning(t *testing.T) {
	if _, err := exec.LookPath("taskset"); err != nil || runtime.NumCPU() < 2 {
		t.Skip("needs taskset and 2 cores")
	}
	root := t.TempDir()
	srv := startServers(t, root, "S", serverCPU)
	require.NotEmpty(t, srv.promoctl)
	allowed := func(pid string) string {
		out, err := exec.Command("taskset", "-c", "-p", pid).Output() // "pid 42's current affinity list: 0"
		require.NoError(t, err)
		fields := strings.Fields(string(out))
		return fields[len(fields)-1]
	}
	self := strconv.Itoa(os.Getpid())
	before := allowed(self)
	restore := pinSelf(t, clientCPU)
	assert.Equal(t, clientCPU, allowed(self))
	assert.Equal(t, 1, runtime.GOMAXPROCS(0))
	restore()
	assert.Equal(t, before, allowed(self))
	assert.Equal(t, serverCPU, allowed(strconv.Itoa(srv.pid)))
}

// An answer larger than net/http's 2 KiB response buffer must come with a
// Content-Length rather than chunked: the hot customer's answer is one.
func TestLargeDecisionIsNotChunked(t *testing.T) {
	snap := compiled(t, t.TempDir(), "S")
	s := listen(t, "promoctl", server.New(server.Config{Source: staticSource{snap}, Now: func() time.Time { return repogen.HotAt }}))
	resp, err := http.Get(strings.TrimSuffix(s.url, hotPath) + largePath)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Greater(t, len(body), 2048)
	assert.Empty(t, resp.TransferEncoding)
	assert.Equal(t, int64(len(body)), resp.ContentLength)
}

// TestHTTPDecisionHarnessCountsFailures makes sure a failing side cannot
// pass for a fast one.
func TestHTTPDecisionHarnessCountsFailures(t *testing.T) {
	s := listen(t, "broken", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	tr := newTransport()
	defer tr.CloseIdleConnections()
	l := drive(tr, s.url, 3, 50*time.Millisecond)
	require.Positive(t, l.requests)
	assert.Equal(t, l.requests, l.failures)
	assert.ErrorContains(t, l.firstErr, "503")

	ok := listen(t, "short", fixedBody([]byte("{}")))
	l = drive(tr, ok.url, 3, 50*time.Millisecond)
	assert.Equal(t, l.requests, l.failures)
	assert.ErrorIs(t, l.firstErr, errShortBody)
}

// discardWriter is a ResponseWriter that keeps nothing, so the handler's
// own allocations show alone.
type discardWriter struct {
	header http.Header
	code   int
	n      int
}

func (w *discardWriter) Header() http.Header { return w.header }

func (w *discardWriter) WriteHeader(code int) { w.code = code }

func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// BenchmarkDecisionHandler is the single-decision route without the
// network: routing, decision, encoding, headers and metrics.
func BenchmarkDecisionHandler(b *testing.B) {
	snap := compiled(b, "", "S")
	h := server.New(server.Config{Source: staticSource{snap}, Now: func() time.Time { return repogen.HotAt }})
	req, err := http.NewRequest(http.MethodGet, "http://promoctl"+hotPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.code, w.n = 0, 0
		h.ServeHTTP(w, req)
	}
	if w.code != http.StatusOK || w.n < 400 {
		b.Fatalf("answer: %d, %d bytes", w.code, w.n)
	}
}
