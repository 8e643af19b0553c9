package server_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/bench/gen"
	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/server"
	"github.com/promoctl/promoctl/evaluator/store"
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

// compiled generates a preset once into root (gen.Cached) and compiles it.
func compiled(tb testing.TB, root, size string) *snapshot.Snapshot {
	tb.Helper()
	dir, err := gen.Cached(root, size, 1)
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
	snap, err := snapshot.Build(res.Model, res.Revision)
	if err != nil {
		tb.Fatal(err)
	}
	return snap
}

// hotPath asks for the decision of the customer with 10 contributing
// promotions; the server's clock stands at gen.HotAt, so the URL needs no
// query string.
var hotPath = "/v1/customers/" + gen.HotCustomer10 + "/entitlements/" + gen.HotFeature

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
	mallocs   uint64 // heap allocations in the process, client included
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
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
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
	runtime.ReadMemStats(&after)
	for _, r := range results {
		r.elapsed = 0
		total.add(r)
	}
	total.mallocs = after.Mallocs - before.Mallocs
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

// compare serves snap with the promoctl handler and a bare handler, then
// alternates rounds of d on each side.
func compare(tb testing.TB, snap *snapshot.Snapshot, rounds int, d time.Duration) comparison {
	tb.Helper()
	h := server.New(server.Config{Source: staticSource{snap}, Now: func() time.Time { return gen.HotAt }})
	promoctl := listen(tb, "promoctl", h)

	tr := newTransport()
	defer tr.CloseIdleConnections()
	sample, err := fetch(tr, promoctl.url)
	if err != nil {
		tb.Fatal(err)
	}
	bare := listen(tb, "bare", fixedBody(sample))

	for _, s := range []*side{bare, promoctl} {
		if w := drive(tr, s.url, len(sample), warmup); w.failures > 0 {
			tb.Fatalf("%s warm-up: %d of %d requests failed, first: %v", s.name, w.failures, w.requests, w.firstErr)
		}
	}
	out := comparison{bodySize: len(sample)}
	for range rounds {
		runtime.GC() // start each round with the same heap
		out.bare.add(drive(tr, bare.url, len(sample), d))
		runtime.GC()
		out.promoctl.add(drive(tr, promoctl.url, len(sample), d))
	}
	for _, l := range []*load{&out.bare, &out.promoctl} {
		slices.Sort(l.latencies)
	}
	return out
}

// BenchmarkHTTPDecision reports requests per second and p99 latency of the
// single-decision route and of the bare handler, and their ratio (BENCHMARKS.md
// target: ratio ≥ 0.70). One call measures a whole alternating run; run it
// with -benchtime=1x.
func BenchmarkHTTPDecision(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size, func(b *testing.B) {
			snap := compiled(b, "", size)
			c := compare(b, snap, loadRounds, roundDuration(b))
			for _, l := range []load{c.bare, c.promoctl} {
				if l.failures > 0 {
					b.Fatalf("%d of %d requests failed, first: %v", l.failures, l.requests, l.firstErr)
				}
			}
			perReq := func(l load) float64 { return float64(l.mallocs) / float64(l.requests) }
			b.ReportMetric(0, "ns/op") // one op is a whole run: meaningless
			b.ReportMetric(float64(c.bodySize), "body-bytes")
			b.ReportMetric(c.bare.perSecond(), "bare-req/s")
			b.ReportMetric(c.promoctl.perSecond(), "promoctl-req/s")
			b.ReportMetric(c.promoctl.perSecond()/c.bare.perSecond(), "ratio")
			b.ReportMetric(float64(c.bare.percentile(99).Microseconds()), "bare-p99-µs")
			b.ReportMetric(float64(c.promoctl.percentile(99).Microseconds()), "promoctl-p99-µs")
			b.ReportMetric(perReq(c.promoctl)-perReq(c.bare), "promoctl-extra-allocs/req")
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
	snap := compiled(t, t.TempDir(), "S")
	c := compare(t, snap, 1, 200*time.Millisecond)
	for name, l := range map[string]load{"bare": c.bare, "promoctl": c.promoctl} {
		assert.Zero(t, l.failures, "%s: first failure: %v", name, l.firstErr)
		assert.Positive(t, l.requests, name)
		assert.Len(t, l.latencies, l.requests, name)
		assert.True(t, slices.IsSorted(l.latencies), name)
		assert.Positive(t, l.percentile(99), name)
	}
	assert.Greater(t, c.bodySize, 500, "the hot customer's answer lists 11 sources")
}

// An answer larger than net/http's 2 KiB response buffer must come with a
// Content-Length rather than chunked: the hot customer's answer is one.
func TestLargeDecisionIsNotChunked(t *testing.T) {
	snap := compiled(t, t.TempDir(), "S")
	s := listen(t, "promoctl", server.New(server.Config{Source: staticSource{snap}, Now: func() time.Time { return gen.HotAt }}))
	resp, err := http.Get(s.url)
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
	h := server.New(server.Config{Source: staticSource{snap}, Now: func() time.Time { return gen.HotAt }})
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
	if w.code != http.StatusOK || w.n < 500 {
		b.Fatalf("answer: %d, %d bytes", w.code, w.n)
	}
}
