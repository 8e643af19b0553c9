package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// The benchmarks below run the real binary on generated data sets, the way
// an operator would: they measure what a unit benchmark cannot (start-up to
// ready, resident memory, the delay between a file write and the answer).
// They run only with -bench, on the sizes in PROMOCTL_BENCH_SIZES (default
// M; make bench adds L), each once (-benchtime 1x).

func benchSizesFromEnv(def string) []string {
	if v := os.Getenv("PROMOCTL_BENCH_SIZES"); v != "" {
		return strings.Split(v, ",")
	}
	return []string{def}
}

// copyTree copies a generated repo so that a benchmark may edit it.
func copyTree(b *testing.B, src string) string {
	b.Helper()
	dst := filepath.Join(b.TempDir(), "repo")
	out, err := exec.Command("cp", "-r", src, dst).CombinedOutput()
	if err != nil {
		b.Fatalf("copy %s: %v\n%s", src, err, out)
	}
	return dst
}

// procKB reads a "VmRSS:"-style line of /proc/<pid>/status in KiB.
func procKB(pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(data)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

// BenchmarkSidecar starts promoctl serve on a generated repo and reports
// the cold start to ready (parse, CUE, cross-file checks, snapshot: the
// the cold compile of BENCHMARKS.md), resident memory, and how long a one-file change
// takes to show in answers.
func BenchmarkSidecar(b *testing.B) {
	bin := sidecartest.Build(b)
	for _, size := range benchSizesFromEnv("M") {
		b.Run(size, func(b *testing.B) {
			src, err := repogen.Cached("", size, 1)
			if err != nil {
				b.Fatal(err)
			}
			repo := copyTree(b, src)
			// Three starts where they are cheap, so that one noisy start
			// does not decide the figure; L takes a minute each.
			runs := 3
			if strings.EqualFold(size, "L") {
				runs = 1
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				benchSidecar(b, bin, repo, runs)
			}
		})
		if !strings.EqualFold(size, "L") {
			continue
		}
		// The same sidecar in a container limited to 2 GiB: promoctl then
		// sets a soft limit of 90% of the cgroup's memory.max, which this
		// machine has none of, so the run sets that value itself.
		b.Run(size+"/container-2GiB", func(b *testing.B) {
			src, err := repogen.Cached("", size, 1)
			if err != nil {
				b.Fatal(err)
			}
			repo := copyTree(b, src)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				benchSidecar(b, bin, repo, 1, fmt.Sprintf("GOMEMLIMIT=%d", int64(2<<30)*9/10))
			}
		})
	}
}

// sidecarRun is what one start of the sidecar measured.
type sidecarRun struct {
	readyS, rssMiB, peakMiB, changeMs float64
}

// benchSidecar starts the sidecar runs times and reports the median of
// each figure, and the slowest start.
func benchSidecar(b *testing.B, bin, repo string, runs int, env ...string) {
	var all []sidecarRun
	for r := 0; r < runs; r++ {
		all = append(all, benchSidecarOnce(b, bin, repo, env...))
	}
	median := func(get func(sidecarRun) float64) float64 {
		vs := make([]float64, 0, len(all))
		for _, run := range all {
			vs = append(vs, get(run))
		}
		slices.Sort(vs)
		return vs[len(vs)/2]
	}
	slowest := 0.0
	for _, run := range all {
		slowest = max(slowest, run.readyS)
	}
	b.ReportMetric(median(func(r sidecarRun) float64 { return r.readyS }), "ready-s")
	b.ReportMetric(slowest, "ready-max-s")
	b.ReportMetric(float64(runs), "starts")
	b.ReportMetric(median(func(r sidecarRun) float64 { return r.rssMiB }), "rss-MiB")
	b.ReportMetric(median(func(r sidecarRun) float64 { return r.peakMiB }), "peak-rss-MiB")
	b.ReportMetric(median(func(r sidecarRun) float64 { return r.changeMs }), "change-visible-ms")
}

func benchSidecarOnce(b *testing.B, bin, repo string, env ...string) sidecarRun {
	var run sidecarRun
	start := time.Now()
	cmd := exec.Command(bin, sidecartest.OwnDataDir(b, []string{"serve", "--repo", repo, "--addr", "127.0.0.1:0", "--log-format", "json"})...)
	cmd.Env = append(os.Environ(), env...)
	addr, logs := sidecartest.Spawn(b, cmd, 2*time.Minute)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	sidecartest.WaitReady(b, base, 10*time.Minute, logs)
	run.readyS = time.Since(start).Seconds()
	// Resident memory once serving has settled: the cold load runs with a
	// lazy collector, which the sidecar drops after its first snapshot.
	time.Sleep(3 * time.Second)
	run.rssMiB = procKB(cmd.Process.Pid, "VmRSS") / 1024
	run.peakMiB = procKB(cmd.Process.Pid, "VmHWM") / 1024

	// One-file change: raise the allowance of the hot customer's only
	// promotion and wait for the answer to show it.
	query := fmt.Sprintf("%s/v1/customers/%s/entitlements/%s?at=%s", base, repogen.HotCustomer1, repogen.HotFeature, repogen.HotAtRFC3339)
	file := filepath.Join(repo, "promotions", repogen.HotPromotionID(1)+".yaml")
	var delays []float64
	for round := 0; round < 3; round++ {
		before := allowanceOf(b, client, query)
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		re := regexp.MustCompile(`(?m)^(  allowance: )(\d+)$`)
		m := re.FindSubmatch(src)
		if m == nil {
			b.Fatalf("%s has no metered allowance line", file)
		}
		n, _ := strconv.ParseInt(string(m[2]), 10, 64)
		edited := re.ReplaceAll(src, []byte(fmt.Sprintf("${1}%d", n+1)))
		tmp := file + ".tmp~"
		if err := os.WriteFile(tmp, edited, 0o644); err != nil {
			b.Fatal(err)
		}
		written := time.Now()
		if err := os.Rename(tmp, file); err != nil {
			b.Fatal(err)
		}
		for allowanceOf(b, client, query) == before {
			if time.Since(written) > time.Minute {
				b.Fatalf("change not visible after a minute:\n%s", tail(logs.String()))
			}
			time.Sleep(2 * time.Millisecond)
		}
		delays = append(delays, time.Since(written).Seconds())
	}
	sort.Float64s(delays)
	run.changeMs = delays[len(delays)/2] * 1000
	return run
}

func allowanceOf(b *testing.B, client *http.Client, url string) int64 {
	resp, err := client.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var d struct{ Allowance *int64 }
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil || d.Allowance == nil {
		b.Fatalf("decision: %v", err)
	}
	return *d.Allowance
}

func tail(s string) string {
	if len(s) > 4000 {
		return s[len(s)-4000:]
	}
	return s
}

// BenchmarkValidateBase runs promoctl validate --base on a generated repo
// committed to git, with one promotion renamed in the head: what CI runs on
// every pull request.
func BenchmarkValidateBase(b *testing.B) {
	bin := sidecartest.Build(b)
	for _, size := range benchSizesFromEnv("M") {
		if strings.EqualFold(size, "L") {
			continue // the CI target is set on M
		}
		b.Run(size, func(b *testing.B) {
			src, err := repogen.Cached("", size, 1)
			if err != nil {
				b.Fatal(err)
			}
			repo := copyTree(b, src)
			git := func(args ...string) {
				cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=bench", "-c", "user.email=bench@example.com"}, args...)...)
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("git %v: %v\n%s", args, err, out)
				}
			}
			git("init", "-q")
			git("add", "-A")
			git("commit", "-q", "-m", "base")
			file := filepath.Join(repo, "promotions", repogen.HotPromotionID(1)+".yaml")
			src1, err := os.ReadFile(file)
			if err != nil {
				b.Fatal(err)
			}
			edited := regexp.MustCompile(`(?m)^name: .*$`).ReplaceAll(src1, []byte("name: Renamed in review"))
			if err := os.WriteFile(file, edited, 0o644); err != nil {
				b.Fatal(err)
			}
			// One run varies by ±0.5 s on a shared 2-core machine: report
			// the median of three, and the slowest.
			const runs = 3
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var took []float64
				for r := 0; r < runs; r++ {
					start := time.Now()
					out, err := exec.Command(bin, "validate", "--repo", repo, "--base", "HEAD").CombinedOutput()
					if err != nil {
						b.Fatalf("validate --base: %v\n%s", err, out)
					}
					took = append(took, time.Since(start).Seconds())
				}
				slices.Sort(took)
				b.ReportMetric(took[runs/2], "validate-base-s")
				b.ReportMetric(took[runs-1], "validate-base-max-s")
			}
		})
	}
}
