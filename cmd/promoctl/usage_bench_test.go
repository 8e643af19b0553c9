package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promoctl/promoctl/bench/httpload"
	usagestore "github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	"github.com/promoctl/promoctl/internal/redistest"
	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/openfeature/reposource"
	usageclient "github.com/promoctl/promoctl/openfeature/usage"

	of "github.com/open-feature/go-sdk/openfeature"
)

// BenchmarkUsage measures consumes the way services make them, each figure
// against its baseline in the same run (the targets are ratios): the
// embedded store over HTTP against bbolt batch writes of the same records
// without HTTP; four sidecars sharing one redis-server against the same
// Lua script called directly by as many clients; the Go usage client
// against the direct call. 64 concurrent clients each time, every consume
// a new key for one customer whose plan is unlimited (so none is denied
// and every one writes its counter and key). PROMOCTL_USAGE_BENCH_SECONDS
// sets how long each load runs (default 3 s).
func BenchmarkUsage(b *testing.B) {
	seconds := 3.0
	if v := os.Getenv("PROMOCTL_USAGE_BENCH_SECONDS"); v != "" {
		_, _ = fmt.Sscan(v, &seconds)
	}
	d := time.Duration(seconds * float64(time.Second))
	const clients = 64
	bin := sidecartest.Build(b)
	repo := unlimitedRepo(b)
	// The buckets a sidecar computes for the customer, for the direct
	// calls: one unlimited monthly plan bucket.
	now := time.Now().UTC()
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	buckets := []usagestore.Bucket{{ID: "plan:monthly", Unlimited: true, PeriodStart: month, PeriodEnd: month.AddDate(0, 1, 0), Order: 1}}
	direct := func(store usagestore.Store) func(w, i int) error {
		return func(w, i int) error {
			_, err := store.Consume(context.Background(), usagestore.ConsumeRequest{
				Scope: usagestore.Scope{Customer: "cus_bench", Feature: "api_calls"}, Key: fmt.Sprintf("d%d-%d", w, i),
				BodyHash: "h", Amount: 1, Overage: usagestore.OverageBlock, Buckets: buckets})
			return err
		}
	}

	// sidecarsVsStore loads the sidecars at urls over HTTP (and through
	// net/http, for reference), then the store open returns called
	// directly, and reports each and the ratio.
	sidecarsVsStore := func(b *testing.B, urls []string, baseName string, open func() (closingStore, error)) {
		http := load(b, clients, d, overHTTP(b, urls, clients, "h"))
		netHTTP := load(b, clients, d, overNetHTTP(urls, clients, "n"))
		store, err := open()
		if err != nil {
			b.Fatal(err)
		}
		base := load(b, clients, d, direct(store))
		_ = store.Close()
		reportLoad(b, "http", http)
		reportLoad(b, "nethttp", netHTTP)
		reportLoad(b, baseName, base)
		b.ReportMetric(http.perSecond()/base.perSecond(), "ratio")
	}

	b.Run("embedded", func(b *testing.B) {
		for range b.N {
			sc := sidecartest.Start(b, bin, repo)
			sidecarsVsStore(b, []string{sc.URL}, "bbolt", func() (closingStore, error) { return bolt.Open(b.TempDir(), bolt.Options{}) })
		}
	})

	// Redis as the fault tests run it (every write fsynced before it is
	// acknowledged) and as Redis recommends running it (fsync once a
	// second), each against the direct call on the same server.
	for name, fsync := range map[string]string{"redis-4-sidecars": "always", "redis-4-sidecars-everysec": "everysec"} {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				srv := redistest.StartWith(b, redistest.Options{AppendFsync: fsync})
				var urls []string
				for range 4 {
					urls = append(urls, sidecartest.Start(b, bin, repo, "--usage-store", srv.URL(), "--usage-timeout", benchStoreTimeout.String()).URL)
				}
				sidecarsVsStore(b, urls, "script", func() (closingStore, error) { return redis.Open(srv.URL(), redis.Options{}) })
			}
		})
	}

	b.Run("go-client", func(b *testing.B) {
		for range b.N {
			srv := redistest.Start(b)
			p := reposource.New(repo, openfeature.Options{})
			if err := p.InitWithContext(context.Background(), of.EvaluationContext{}); err != nil {
				b.Fatal(err)
			}
			client, err := usageclient.NewRedis(srv.URL(), p, usageclient.Options{Timeout: benchStoreTimeout})
			if err != nil {
				b.Fatal(err)
			}
			viaClient := load(b, clients, d, func(w, i int) error {
				_, err := client.Consume(context.Background(), usageclient.Request{Customer: "cus_bench", Feature: "api_calls", Amount: 1, IdempotencyKey: fmt.Sprintf("c%d-%d", w, i)})
				return err
			})
			client.Close()
			p.Shutdown()
			store, err := redis.Open(srv.URL(), redis.Options{})
			if err != nil {
				b.Fatal(err)
			}
			base := load(b, clients, d, direct(store))
			_ = store.Close()
			reportLoad(b, "client", viaClient)
			reportLoad(b, "script", base)
			b.ReportMetric(viaClient.perSecond()/base.perSecond(), "ratio")
		}
	})
}

// closingStore is a usage store the benchmark opens and closes itself.
type closingStore interface {
	usagestore.Store
	io.Closer
}

// unlimitedRepo is a repo with one metered feature and one customer on an
// unlimited monthly plan.
func unlimitedRepo(b *testing.B) string {
	dir := b.TempDir()
	for name, text := range map[string]string{
		"features/api_calls.yaml": "kind: Feature\nkey: api_calls\nname: API calls\ntype: metered\nusage: {overage: block, on_store_failure: deny}\n",
		"plans/unlimited.yaml":    "kind: Plan\nkey: unlimited\nname: Unlimited\nentitlements:\n  - {feature: api_calls, allowance: unlimited, reset: monthly}\n",
		"customers/all.yaml":      "kind: Customers\ncustomers:\n  - {id: cus_bench, plan: unlimited}\n",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// overHTTP posts consumes from client w to sidecar w mod len(urls), each
// client on a keep-alive connection of its own, through httpload (a
// wrk-like generator: Go's net/http client would take as much of the two
// shared cores as the sidecars it measures; overNetHTTP is that
// reference).
func overHTTP(b *testing.B, urls []string, clients int, prefix string) func(w, i int) error {
	conns := make([]*httpload.Conn, clients)
	bodies := make([][]byte, clients)
	for w := range clients {
		c, err := httpload.Dial(strings.TrimPrefix(urls[w%len(urls)], "http://"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = c.Close() })
		conns[w] = c
	}
	return func(w, i int) error {
		bodies[w] = consumeBody(bodies[w][:0], prefix, w, i)
		status, err := conns[w].Post("/v1/usage/consume", bodies[w])
		if err != nil {
			return err
		}
		if status != http.StatusOK {
			return fmt.Errorf("status %d", status)
		}
		return nil
	}
}

// consumeBody appends a consume of one unit of api_calls for cus_bench
// under a key no other call uses.
func consumeBody(dst []byte, prefix string, w, i int) []byte {
	dst = append(dst, `{"customer":"cus_bench","feature":"api_calls","amount":1,"idempotency_key":"`...)
	dst = append(dst, prefix...)
	dst = strconv.AppendInt(dst, int64(w), 10)
	dst = append(dst, '-')
	dst = strconv.AppendInt(dst, int64(i), 10)
	return append(dst, `"}`...)
}

// overNetHTTP is overHTTP through Go's net/http client, for reference.
func overNetHTTP(urls []string, clients int, prefix string) func(w, i int) error {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}}
	return func(w, i int) error {
		resp, err := hc.Post(urls[w%len(urls)]+"/v1/usage/consume", "application/json", bytes.NewReader(consumeBody(nil, prefix, w, i)))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
}

// loadResult is one load run: how many calls, in how long, with what
// latencies.
type loadResult struct {
	n         int64
	elapsed   time.Duration
	latencies []time.Duration
}

func (l loadResult) perSecond() float64 { return float64(l.n) / l.elapsed.Seconds() }

func (l loadResult) percentile(p int) time.Duration {
	if len(l.latencies) == 0 {
		return 0
	}
	return l.latencies[(len(l.latencies)-1)*p/100]
}

// load runs call from clients goroutines for d; any error fails the
// benchmark (a benchmark of failing calls measures nothing).
func load(b *testing.B, clients int, d time.Duration, call func(w, i int) error) loadResult {
	b.Helper()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		lat    []time.Duration
		n      atomic.Int64
		failed atomic.Pointer[error]
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, 4096)
			for i := 0; time.Now().Before(stop); i++ {
				t0 := time.Now()
				if err := call(w, i); err != nil {
					failed.Store(&err)
					return
				}
				mine = append(mine, time.Since(t0))
				n.Add(1)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := failed.Load(); err != nil {
		b.Fatalf("a call failed: %v", *err)
	}
	slices.Sort(lat)
	return loadResult{n: n.Load(), elapsed: elapsed, latencies: lat}
}

func reportLoad(b *testing.B, name string, l loadResult) {
	b.ReportMetric(l.perSecond(), name+"-consumes/s")
	b.ReportMetric(float64(l.percentile(99).Microseconds())/1000, name+"-p99-ms")
	b.ReportMetric(float64(l.percentile(50).Microseconds())/1000, name+"-p50-ms")
}

// benchStoreTimeout replaces the 25 ms default store timeout under load:
// on a machine shared by client and server a 64-client load queues calls
// beyond it, and the feature's deny would turn the queue into failures
// rather than a latency to measure.
const benchStoreTimeout = time.Second
