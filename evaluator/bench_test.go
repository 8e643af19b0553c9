package evaluator_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// benchSizes are the generated data sets the benchmarks run on: S and M by
// default, L when PROMOCTL_BENCH_SIZES says so (make bench does).
func benchSizes() []string {
	if v := os.Getenv("PROMOCTL_BENCH_SIZES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"S", "M"}
}

var (
	snapshotsMu sync.Mutex
	snapshots   = map[string]*snapshot.Snapshot{}
)

// benchSnapshot generates (once, cached on disk by repogen.Cached) and compiles
// a data set.
func benchSnapshot(b *testing.B, size string) *snapshot.Snapshot {
	b.Helper()
	snapshotsMu.Lock()
	defer snapshotsMu.Unlock()
	if s, ok := snapshots[size]; ok {
		return s
	}
	dir, err := repogen.Cached("", size, 1)
	if err != nil {
		b.Fatal(err)
	}
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if !res.OK() {
		b.Fatalf("generated %s is invalid: %v", size, res.Diagnostics.Errors()[:1])
	}
	s, err := snapshot.Build(res.Model, res.ContentHash)
	if err != nil {
		b.Fatal(err)
	}
	snapshots[size] = s
	return s
}

// BenchmarkDecide measures one in-process decision for a customer with 1,
// 10 and 50 contributing promotions, reporting p50 and p99 besides the mean.
func BenchmarkDecide(b *testing.B) {
	for _, size := range benchSizes() {
		for _, hot := range repogen.HotCustomers() {
			b.Run(fmt.Sprintf("%s/promotions=%d", size, hot.Contributing), func(b *testing.B) {
				snap := benchSnapshot(b, size)
				q := evaluator.Query{Customer: hot.ID, Feature: repogen.HotFeature, At: repogen.HotAt}
				d, err := evaluator.Decide(snap, q)
				if err != nil {
					b.Fatal(err)
				}
				if got := len(d.Sources) - 1; got != hot.Contributing {
					b.Fatalf("%s has %d contributing promotions, want %d", hot.ID, got, hot.Contributing)
				}
				samples := make([]time.Duration, 0, b.N)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					start := time.Now()
					_, _ = evaluator.Decide(snap, q)
					samples = append(samples, time.Since(start))
				}
				b.StopTimer()
				sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
				b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
			})
		}
	}
}
