package openfeature_test

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/openfeature/reposource"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// benchSizes are the generated data sets: M (where BENCHMARKS.md has the
// HTTP figure), or PROMOCTL_BENCH_SIZES.
func benchSizes() []string {
	if v := os.Getenv("PROMOCTL_BENCH_SIZES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"M"}
}

// benchProvider loads a generated data set (repogen.Cached) into a provider
// whose clock stands at repogen.HotAt, registered with a fresh API.
func benchProvider(b *testing.B, size string) (*openfeature.Provider, *of.Client) {
	b.Helper()
	dir, err := repogen.Cached("", size, 1)
	if err != nil {
		b.Fatal(err)
	}
	p := reposource.New(dir, openfeature.Options{Now: func() time.Time { return repogen.HotAt }})
	api := isolated.NewAPI()
	b.Cleanup(func() { _ = api.Shutdown(context.Background()) })
	if err := api.SetProviderAndWait(context.Background(), p); err != nil {
		b.Fatal(err)
	}
	return p, api.NewClient()
}

// BenchmarkOpenFeature measures one in-process evaluation of the metered
// hot feature for the customer with 10 contributing promotions (the
// decision the HTTP figure of BENCHMARKS.md serves): through the
// OpenFeature client (what a service calls), the provider alone, and
// Decide (the full decision with sources).
func BenchmarkOpenFeature(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size, func(b *testing.B) {
			p, client := benchProvider(b, size)
			evalCtx := of.NewEvaluationContext(repogen.HotCustomer10, nil)
			flatCtx := of.FlattenedContext{of.TargetingKey: repogen.HotCustomer10}
			ctx := context.Background()
			if d, err := client.IntValueDetails(ctx, repogen.HotFeature, 0, evalCtx); err != nil || d.Reason != of.TargetingMatchReason {
				b.Fatalf("hot customer: %+v, %v", d, err)
			}
			b.Run("client", func(b *testing.B) {
				timed(b, func() { _, _ = client.IntValueDetails(ctx, repogen.HotFeature, 0, evalCtx) })
			})
			b.Run("provider", func(b *testing.B) {
				timed(b, func() { _ = p.IntEvaluation(ctx, repogen.HotFeature, 0, flatCtx) })
			})
			b.Run("decide", func(b *testing.B) {
				q := evaluator.Query{Customer: repogen.HotCustomer10, Feature: repogen.HotFeature, At: repogen.HotAt}
				timed(b, func() { _, _ = p.Decide(q) })
			})
		})
	}
}

// timed runs f b.N times and reports p50 and p99 besides the mean.
func timed(b *testing.B, f func()) {
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		f()
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
}

// processMemory reads the process's resident set and its peak in MiB
// (Linux only).
func processMemory() (rss, peak float64, ok bool) {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kib, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "VmRSS:":
			rss = kib / 1024
		case "VmHWM:":
			peak = kib / 1024
		}
	}
	return rss, peak, rss > 0
}

// BenchmarkProviderMemory reports the heap a provider holds once it has
// loaded a data set (in use after a forced collection) and the process's
// RSS, from the repo directory and from a bundle built of it: the memory
// cost of embedding it, per process. One op is a whole load: run with
// -benchtime 1x, one data set and one source per process for the RSS peak
// to mean anything (bench/run.sh does).
func BenchmarkProviderMemory(b *testing.B) {
	for _, size := range benchSizes() {
		b.Run(size+"/repo", func(b *testing.B) {
			dir, err := repogen.Cached("", size, 1)
			if err != nil {
				b.Fatal(err)
			}
			measureLoad(b, func() *openfeature.Provider {
				return reposource.New(dir, openfeature.Options{Now: func() time.Time { return repogen.HotAt }})
			})
		})
		b.Run(size+"/bundle", func(b *testing.B) {
			path := benchBundle(b, size)
			measureLoad(b, func() *openfeature.Provider {
				return openfeature.NewBundle(path, openfeature.BundleOptions{}, openfeature.Options{Now: func() time.Time { return repogen.HotAt }})
			})
		})
	}
}

// benchBundle compiles a generated data set into a bundle file next to it
// (once; `promoctl build` would write the same bytes).
func benchBundle(b *testing.B, size string) string {
	b.Helper()
	dir, err := repogen.Cached("", size, 1)
	if err != nil {
		b.Fatal(err)
	}
	path := dir + ".bundle"
	if _, err := os.Stat(path); err == nil {
		return path
	}
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	if err != nil || !res.OK() {
		b.Fatalf("load %s: %v %v", dir, err, res.Diagnostics.Errors())
	}
	data, err := bundle.Encode(res.Model, bundle.Header{Revision: res.ContentHash, ContentHash: res.ContentHash}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	return path
}

// measureLoad reports what a provider made by newProvider holds once ready.
func measureLoad(b *testing.B, newProvider func() *openfeature.Provider) {
	b.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	debug.FreeOSMemory()
	runtime.ReadMemStats(&before)
	start := time.Now()
	p := newProvider()
	if err := p.InitWithContext(context.Background(), of.EvaluationContext{}); err != nil {
		b.Fatal(err)
	}
	ready := time.Since(start)
	b.Cleanup(p.Shutdown)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/(1<<20), "heap-MiB")
	b.ReportMetric(ready.Seconds(), "ready-s")
	if rss, peak, ok := processMemory(); ok {
		b.ReportMetric(rss, "rss-MiB")
		b.ReportMetric(peak, "peak-rss-MiB")
	}
	runtime.KeepAlive(p)
}
