package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// BenchmarkBundle measures bundles on generated repos (M and L; S is too
// small to say anything): the size of the bundle against its YAML, how
// long promoctl build takes (validate + encode), and the sidecar's start
// to ready from the bundle and from the YAML repo (no cache) in the same
// run, alternating, with the resident memory after each load.
func BenchmarkBundle(b *testing.B) {
	bin := sidecartest.Build(b)
	for _, size := range benchSizesFromEnv("M") {
		if strings.EqualFold(size, "S") {
			continue
		}
		b.Run(size, func(b *testing.B) {
			repo, err := repogen.Cached("", size, 1)
			if err != nil {
				b.Fatal(err)
			}
			_, yamlBytes, err := compiler.ContentHash(os.DirFS(repo), promotions.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			out := filepath.Join(b.TempDir(), "repo.bundle")
			runs := 3
			if strings.EqualFold(size, "L") {
				runs = 1
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if msg, err := exec.Command(bin, "build", "--repo", repo, "--out", out).CombinedOutput(); err != nil {
					b.Fatalf("build: %v\n%s", err, msg)
				}
				b.ReportMetric(time.Since(start).Seconds(), "build-s")
				info, err := os.Stat(out)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(info.Size())/(1<<20), "bundle-MiB")
				b.ReportMetric(float64(yamlBytes)/(1<<20), "yaml-MiB")
				b.ReportMetric(float64(info.Size())/float64(yamlBytes), "size-ratio")

				var fromYAML, fromBundle []sidecarRun
				for r := 0; r < runs; r++ {
					fromYAML = append(fromYAML, startToReady(b, bin, "--repo", repo))
					fromBundle = append(fromBundle, startToReady(b, bin, "--bundle", out))
				}
				yamlReady, bundleReady := medianOf(fromYAML, readyOf), medianOf(fromBundle, readyOf)
				b.ReportMetric(yamlReady, "yaml-ready-s")
				b.ReportMetric(bundleReady, "bundle-ready-s")
				b.ReportMetric(yamlReady/bundleReady, "start-ratio")
				b.ReportMetric(medianOf(fromYAML, rssOf), "yaml-rss-MiB")
				b.ReportMetric(medianOf(fromBundle, rssOf), "bundle-rss-MiB")
				b.ReportMetric(medianOf(fromBundle, peakOf), "bundle-peak-rss-MiB")
			}
		})
	}
}

func readyOf(r sidecarRun) float64 { return r.readyS }
func rssOf(r sidecarRun) float64   { return r.rssMiB }
func peakOf(r sidecarRun) float64  { return r.peakMiB }

func medianOf(runs []sidecarRun, get func(sidecarRun) float64) float64 {
	vs := make([]float64, 0, len(runs))
	for _, r := range runs {
		vs = append(vs, get(r))
	}
	slices.Sort(vs)
	return vs[len(vs)/2]
}

// startToReady starts promoctl serve with the given source flags and
// measures the time to a 200 from /readyz, then the resident memory once
// the sidecar has settled (as BenchmarkSidecar does).
func startToReady(b *testing.B, bin string, source ...string) sidecarRun {
	b.Helper()
	var run sidecarRun
	start := time.Now()
	cmd := exec.Command(bin, sidecartest.OwnDataDir(b, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json"}, source...))...)
	addr, logs := sidecartest.Spawn(b, cmd, 2*time.Minute)
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sidecartest.WaitReady(b, "http://"+addr, 10*time.Minute, logs)
	run.readyS = time.Since(start).Seconds()
	time.Sleep(3 * time.Second)
	run.rssMiB = procKB(cmd.Process.Pid, "VmRSS") / 1024
	run.peakMiB = procKB(cmd.Process.Pid, "VmHWM") / 1024
	return run
}
