package opabench_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	opabench "github.com/promoctl/promoctl/bench/opa"
	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// loaded is a data set compiled by promoctl and loaded into OPA.
type loaded struct {
	snap *snapshot.Snapshot
	opa  *opabench.Engine
}

var (
	loadedMu sync.Mutex
	cache    = map[string]loaded{}
)

// load generates a preset once into root (repogen.Cached) and loads it; an
// empty root is the shared benchmark cache.
func load(tb testing.TB, root, size string) loaded {
	tb.Helper()
	loadedMu.Lock()
	defer loadedMu.Unlock()
	if l, ok := cache[root+"|"+size]; ok {
		return l
	}
	dir, err := repogen.Cached(root, size, 1)
	require.NoError(tb, err)
	l := loadDir(tb, dir)
	cache[root+"|"+size] = l
	return l
}

// loadDir compiles a config repo with promoctl and loads it into OPA.
func loadDir(tb testing.TB, dir string) loaded {
	tb.Helper()
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	require.NoError(tb, err)
	require.True(tb, res.OK(), "%s is invalid: %v", dir, res.Diagnostics.Errors())
	snap, err := snapshot.Build(res.Model, res.ContentHash)
	require.NoError(tb, err)
	engine, err := opabench.NewEngine(context.Background(), opabench.Data(snap))
	require.NoError(tb, err)
	return loaded{snap: snap, opa: engine}
}

// outcome is what both engines must agree on.
type outcome struct {
	HasAccess  bool
	Allowance  *int64 // nil for boolean features and unlimited allowances
	Unlimited  bool
	Reset      string
	ValidUntil *int64 // Unix microseconds; nil when no contributing grant ends
	Promotions []string
}

func (o outcome) String() string {
	b, _ := json.Marshal(o)
	return string(b)
}

func promoctlOutcome(d evaluator.Decision) outcome {
	o := outcome{HasAccess: d.HasAccess, Promotions: []string{}}
	if d.FeatureType == promotions.FeatureMetered {
		o.Unlimited, o.Reset = d.Allowance.Unlimited, string(d.Reset)
		if !d.Allowance.Unlimited {
			v := d.Allowance.Value
			o.Allowance = &v
		}
	}
	if !d.ValidUntil.IsZero() {
		us := d.ValidUntil.UnixMicro()
		o.ValidUntil = &us
	}
	for _, s := range d.Sources {
		if s.Kind == "promotion" {
			o.Promotions = append(o.Promotions, s.ID)
		}
	}
	return o
}

func opaOutcome(t testing.TB, d map[string]any) outcome {
	t.Helper()
	integer := func(v any) *int64 {
		if v == nil {
			return nil
		}
		n, err := v.(json.Number).Int64()
		require.NoError(t, err)
		return &n
	}
	o := outcome{HasAccess: d["has_access"].(bool), Allowance: integer(d["allowance"]), ValidUntil: integer(d["valid_until"]), Promotions: []string{}}
	if u, ok := d["unlimited"].(bool); ok {
		o.Unlimited = u
	}
	if r, ok := d["reset"].(string); ok {
		o.Reset = r
	}
	for _, p := range d["promotions"].([]any) {
		o.Promotions = append(o.Promotions, p.(string))
	}
	return o
}

func decideBoth(t testing.TB, l loaded, customer, feature string, at time.Time) (ours, theirs outcome) {
	t.Helper()
	d, err := evaluator.Decide(l.snap, evaluator.Query{Customer: customer, Feature: feature, At: at})
	require.NoError(t, err)
	in, err := opabench.NewInput(customer, feature, at.UnixMicro())
	require.NoError(t, err)
	od, err := l.opa.Decide(context.Background(), in)
	require.NoError(t, err)
	require.NotNil(t, od, "OPA has no decision for %s/%s", customer, feature)
	return promoctlOutcome(d), opaOutcome(t, od)
}

type query struct {
	customer, feature string
	at                time.Time
}

// queries covers a repo: every customer (and one outside the directory)
// for every feature at instants before, during and after the grants, and
// every grant's customer around the instants the grant starts and ends.
func queries(m *promotions.Model, r snapshot.Reader) []query {
	customers := []string{"nobody"}
	for id := range m.Customers {
		customers = append(customers, id)
	}
	slices.Sort(customers)
	features := make([]string, 0, len(m.Features))
	for key := range m.Features {
		features = append(features, key)
	}
	slices.Sort(features)
	var out []query
	around := func(customer, feature string, from, until int64) {
		for _, t := range []int64{from - 1, from, until - 1, until} {
			if t != snapshot.Forever && t != snapshot.Forever-1 {
				out = append(out, query{customer, feature, time.Unix(0, t).UTC()})
			}
		}
	}
	for _, c := range customers {
		for _, f := range features {
			for _, at := range []time.Time{
				time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2025, 11, 30, 12, 0, 0, 0, time.UTC),
				time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
				repogen.HotAt,
				time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC),
			} {
				out = append(out, query{c, f, at})
			}
			for _, g := range r.CustomerGrants(c, f) {
				around(c, f, g.GrantedAt, g.Until)
			}
		}
	}
	for _, f := range features {
		for _, g := range r.Feature(f).AllGrants {
			for _, c := range customers[:min(len(customers), 20)] {
				around(c, f, g.GrantedAt, g.Until)
			}
		}
	}
	return out
}

// TestSameDecisionsAsPromoctl checks policy.rego against promoctl on
// generated data sets, the example repo, and a repo of override,
// unlimited and eligibility corner cases.
func TestSameDecisionsAsPromoctl(t *testing.T) {
	repos := []struct {
		name string
		load func(t *testing.T) loaded
	}{
		{"generated S", func(t *testing.T) loaded { return load(t, t.TempDir(), "S") }},
		{"generated tiny", func(t *testing.T) loaded { return load(t, t.TempDir(), "tiny") }},
		{"examples/acme", func(t *testing.T) loaded { return loadDir(t, "../../examples/acme") }},
		{"corner cases", func(t *testing.T) loaded { return loadDir(t, "testdata/corners") }},
	}
	for _, repo := range repos {
		t.Run(repo.name, func(t *testing.T) {
			l := repo.load(t)
			var promoted int
			for _, q := range queries(l.snap.Model, l.snap.Read()) {
				ours, theirs := decideBoth(t, l, q.customer, q.feature, q.at)
				if !assert.Equal(t, ours.String(), theirs.String(), "%s/%s at %s", q.customer, q.feature, q.at.Format(time.RFC3339Nano)) {
					return
				}
				if len(ours.Promotions) > 0 {
					promoted++
				}
			}
			// The comparison means something only if promotions contribute.
			assert.Greater(t, promoted, 10)
		})
	}
}

// benchSizes are the data sets to compare on: M, or PROMOCTL_BENCH_SIZES.
func benchSizes() []string {
	if v := os.Getenv("PROMOCTL_BENCH_SIZES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{"M"}
}

// chunk is how many decisions of one engine run between clock reads; the
// engines alternate chunk by chunk so drift on a shared machine hits both.
const chunk = 256

// BenchmarkOPA measures the same decision by OPA (prepared query, data in
// its in-memory store) and by evaluator.Decide in one run, for the hot
// customers with 1, 10 and 50 contributing promotions, after checking that
// both agree. Reports opa-ns/op, promoctl-ns/op, their ratio (how many
// times promoctl's time OPA takes) and allocations per decision of each.
func BenchmarkOPA(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes() {
		for _, hot := range repogen.HotCustomers() {
			b.Run(fmt.Sprintf("%s/promotions=%d", size, hot.Contributing), func(b *testing.B) {
				l := load(b, "", size)
				ours, theirs := decideBoth(b, l, hot.ID, repogen.HotFeature, repogen.HotAt)
				if ours.String() != theirs.String() {
					b.Fatalf("decisions differ:\npromoctl %s\nOPA      %s", ours, theirs)
				}
				if len(ours.Promotions) != hot.Contributing {
					b.Fatalf("%s has %d contributing promotions, want %d", hot.ID, len(ours.Promotions), hot.Contributing)
				}
				q := evaluator.Query{Customer: hot.ID, Feature: repogen.HotFeature, At: repogen.HotAt}
				in, err := opabench.NewInput(hot.ID, repogen.HotFeature, repogen.HotAt.UnixMicro())
				if err != nil {
					b.Fatal(err)
				}

				var opaTime, ourTime time.Duration
				var opaAllocs, ourAllocs uint64
				var ms runtime.MemStats
				mallocs := func() uint64 { runtime.ReadMemStats(&ms); return ms.Mallocs }
				b.ResetTimer()
				for done := 0; done < b.N; done += chunk {
					n := min(chunk, b.N-done)

					m0, t0 := mallocs(), time.Now()
					for range n {
						if _, err := l.opa.Decide(ctx, in); err != nil {
							b.Fatal(err)
						}
					}
					opaTime += time.Since(t0)
					opaAllocs += mallocs() - m0

					m0, t0 = mallocs(), time.Now()
					for range n {
						if _, err := evaluator.Decide(l.snap, q); err != nil {
							b.Fatal(err)
						}
					}
					ourTime += time.Since(t0)
					ourAllocs += mallocs() - m0
				}
				b.StopTimer()
				perOp := func(total float64) float64 { return total / float64(b.N) }
				b.ReportMetric(0, "ns/op") // an op is one decision by each engine: see below
				b.ReportMetric(perOp(float64(opaTime.Nanoseconds())), "opa-ns/op")
				b.ReportMetric(perOp(float64(ourTime.Nanoseconds())), "promoctl-ns/op")
				b.ReportMetric(float64(opaTime)/float64(ourTime), "opa/promoctl")
				b.ReportMetric(perOp(float64(opaAllocs)), "opa-allocs/op")
				b.ReportMetric(perOp(float64(ourAllocs)), "promoctl-allocs/op")
			})
		}
	}
}
