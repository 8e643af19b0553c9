package yamldoc_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions/repogen"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// The benchmark repos are what the fast YAML path was built for: every one
// of their files must take it and give what goccy's parser gives.
func TestParseBlockMatchesParserOnGeneratedRepo(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, repogen.Generate(dir, repogen.Tiny))
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.yaml"))
	require.NoError(t, err)
	for _, sub := range repogen.Dirs {
		kind, err := filepath.Glob(filepath.Join(dir, sub, "*.yaml"))
		require.NoError(t, err)
		require.NotEmpty(t, kind, sub)
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		t.Run(filepath.Base(file), func(t *testing.T) { yamldoc.RequireFastAndSame(t, src) })
	}
}

// BenchmarkBlockParse times the fast path and goccy's full parser on the
// same 10,000-customer file in the same loop and reports the speed-up.
func BenchmarkBlockParse(b *testing.B) {
	dir := b.TempDir()
	cfg := repogen.Tiny
	cfg.Customers, cfg.CustomersPerFile = 10_000, 10_000
	require.NoError(b, repogen.Generate(dir, cfg))
	src, err := os.ReadFile(filepath.Join(dir, "customers", "part-0001.yaml"))
	require.NoError(b, err)
	b.SetBytes(int64(len(src)))
	var fast, full time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if _, _, ok := yamldoc.ParseBlock(src); !ok {
			b.Fatal("the fast path declined a generated customers file")
		}
		fast += time.Since(start)
		start = time.Now()
		if _, ok := yamldoc.ParseFull(src); !ok {
			b.Fatal("goccy's parser rejected a generated customers file")
		}
		full += time.Since(start)
	}
	b.ReportMetric(float64(len(src))*float64(b.N)/1e6/fast.Seconds(), "block-MB/s")
	b.ReportMetric(float64(len(src))*float64(b.N)/1e6/full.Seconds(), "parser-MB/s")
	b.ReportMetric(full.Seconds()/fast.Seconds(), "speedup-x")
}
