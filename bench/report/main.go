// Command report turns the output of the promoctl benchmarks (go test
// -bench, read from standard input) into BENCHMARKS.md: every performance
// target next to its measured figure, with the machine, Go version and date.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// metrics of one benchmark line: unit → value.
type metrics map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (map[string]metrics, []string, error) {
	out := map[string]metrics{}
	var context []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "cpu:") || strings.HasPrefix(line, "goos:") || strings.HasPrefix(line, "goarch:") {
			if !slices.Contains(context, line) {
				context = append(context, line)
			}
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		fields := strings.Fields(m[2])
		ms := metrics{}
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			ms[fields[i+1]] = v
		}
		out[m[1]] = ms
	}
	return out, context, sc.Err()
}

// row is one line of the table: a figure, its target, and how to read it
// from the benchmark metrics.
type row struct {
	figure, target string
	value          func(map[string]metrics) (string, bool, bool) // text, measured, met
}

// redisRow is the row of 4 sidecars sharing one redis-server run with the
// given persistence.
func redisRow(name, persistence string) row {
	return row{"consume, 4 sidecars over HTTP sharing one redis-server (" + persistence + "), vs the same Lua script called directly, 64 keep-alive clients each (same run)", "≥ 0.5 of the direct call; p99 < 5 ms",
		func(r map[string]metrics) (string, bool, bool) {
			ratio, ok := metric(r, name, "ratio")
			ours, _ := metric(r, name, "http-consumes/s")
			base, _ := metric(r, name, "script-consumes/s")
			p99, _ := metric(r, name, "http-p99-ms")
			return fmt.Sprintf("%.0f vs %.0f consumes/s = %.2f (p99 %.1f ms)%s", ours, base, ratio, p99, netHTTPNote(r, name)), ok, ratio >= 0.5 && p99 < 5
		}}
}

// netHTTPNote is the same load through Go's net/http client, for
// reference: on two shared cores that client costs the sidecars CPU.
func netHTTPNote(r map[string]metrics, name string) string {
	v, ok := metric(r, name, "nethttp-consumes/s")
	if !ok {
		return ""
	}
	p99, _ := metric(r, name, "nethttp-p99-ms")
	return fmt.Sprintf("; through Go's net/http client %.0f consumes/s (p99 %.1f ms)", v, p99)
}

func metric(results map[string]metrics, bench, unit string) (float64, bool) {
	m, ok := results[bench]
	if !ok {
		return 0, false
	}
	v, ok := m[unit]
	return v, ok
}

// httpRatio is the HTTP benchmark's row for one of its runs (prefix "" for
// unpinned, "pinned-"), on the smallest data set measured.
func httpRatio(r map[string]metrics, prefix string) (string, bool, bool) {
	for _, size := range []string{"S", "M", "L"} {
		name := "BenchmarkHTTPDecision/" + size
		ratio, ok := metric(r, name, prefix+"ratio")
		if !ok {
			continue
		}
		bare, _ := metric(r, name, prefix+"bare-req/s")
		ours, _ := metric(r, name, prefix+"promoctl-req/s")
		p99, _ := metric(r, name, prefix+"promoctl-p99-µs")
		body, _ := metric(r, name, "body-bytes")
		return fmt.Sprintf("%s (%.0f-byte answer): %.0f vs %.0f req/s = %.2f (p99 %.0f µs)", size, body, ours, bare, ratio, p99), true, ratio >= 0.75
	}
	return "", false, false
}

// sidecarMemory is a sidecar run's RSS after load and its peak, in MiB.
func sidecarMemory(results map[string]metrics, run string) (rss, peak float64, ok bool) {
	rss, ok = metric(results, run, "rss-MiB")
	peak, _ = metric(results, run, "peak-rss-MiB")
	return rss, peak, ok
}

func main() {
	command := flag.String("command", "make bench", "the command that produced the input")
	analysis := flag.String("analysis", "", "a markdown file to include after the table: where the time goes")
	flag.Parse()
	results, context, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	rows := []row{}
	for _, n := range []int{1, 10, 50} {
		n := n
		rows = append(rows, row{
			figure: fmt.Sprintf("in-process decision, L, customer with %d promotion(s): p50 / p99 / allocs", n),
			target: map[bool]string{true: "p50 < 3 µs, ≤ 5 allocs including the result's", false: "—"}[n == 10],
			value: func(r map[string]metrics) (string, bool, bool) {
				name := fmt.Sprintf("BenchmarkDecide/L/promotions=%d", n)
				p50, ok := metric(r, name, "p50-ns")
				if !ok {
					return "", false, false
				}
				p99, _ := metric(r, name, "p99-ns")
				allocs, _ := metric(r, name, "allocs/op")
				return fmt.Sprintf("%.1f µs / %.1f µs / %.0f allocs", p50/1000, p99/1000, allocs), true, p50 < 3000 && allocs <= 5
			},
		})
	}
	rows = append(rows,
		row{"HTTP single decision vs bare net/http returning the same bytes, small repo, keep-alive, client and server unpinned", "≥ 0.75 of bare req/s",
			func(r map[string]metrics) (string, bool, bool) { return httpRatio(r, "") }},
		row{"HTTP single decision vs bare net/http, the same run with the server on one core and the client on the other (taskset)", "≥ 0.75 of bare req/s",
			func(r map[string]metrics) (string, bool, bool) { return httpRatio(r, "pinned-") }},
		row{"in-process decision through the OpenFeature client (openfeature provider), M, customer with 10 promotions: p50 / mean / allocs", "—",
			func(r map[string]metrics) (string, bool, bool) {
				name := "BenchmarkOpenFeature/M/client"
				p50, ok := metric(r, name, "p50-ns")
				if !ok {
					return "", false, false
				}
				mean, _ := metric(r, name, "ns/op")
				allocs, _ := metric(r, name, "allocs/op")
				return fmt.Sprintf("%.1f µs / %.1f µs / %.0f allocs", p50/1000, mean/1000, allocs), true, false
			}},
		row{"in-process provider memory, from a bundle and from the repo directory (heap in use after load / process RSS / peak RSS)", "—",
			func(r map[string]metrics) (string, bool, bool) {
				var parts []string
				for _, size := range []string{"M", "L"} {
					for _, source := range []string{"bundle", "repo"} {
						name := "BenchmarkProviderMemory/" + size + "/" + source
						heap, ok := metric(r, name, "heap-MiB")
						if !ok {
							continue
						}
						rss, peak, _ := sidecarMemory(r, name)
						parts = append(parts, fmt.Sprintf("%s %s: %.0f / %.0f / %.0f MiB", size, source, heap, rss, peak))
					}
				}
				return strings.Join(parts, "; "), len(parts) > 0, false
			}},
		row{"peer: the same decision in OPA (rego, prepared query, in-memory store), M", "promoctl faster",
			func(r map[string]metrics) (string, bool, bool) {
				for _, size := range []string{"M", "S", "L"} {
					m, ok := r["BenchmarkOPA/"+size+"/promotions=10"]
					if !ok {
						continue
					}
					ratio := m["opa/promoctl"]
					return fmt.Sprintf("%s, 10 promotions: OPA %.0f ns, promoctl %.0f ns: OPA/promoctl = %.0f×", size, m["opa-ns/op"], m["promoctl-ns/op"], ratio), true, ratio > 1
				}
				return "", false, false
			}},
	)
	for _, size := range []string{"M", "L"} {
		size := size
		limit := map[string]float64{"M": 5, "L": 60}[size]
		rows = append(rows, row{
			figure: fmt.Sprintf("cold compile of %s (sidecar start to ready: parse + CUE + cross-file + snapshot; median of the starts / slowest)", size),
			target: fmt.Sprintf("< %.0f s", limit),
			value: func(r map[string]metrics) (string, bool, bool) {
				v, ok := metric(r, "BenchmarkSidecar/"+size, "ready-s")
				slowest, _ := metric(r, "BenchmarkSidecar/"+size, "ready-max-s")
				starts, _ := metric(r, "BenchmarkSidecar/"+size, "starts")
				return fmt.Sprintf("%.1f s / %.1f s (%.0f start(s))", v, slowest, starts), ok, slowest < limit
			},
		})
	}
	rows = append(rows,
		row{"one-file change visible in answers, L (write → answer, median of 3)", "< 1 s",
			func(r map[string]metrics) (string, bool, bool) {
				v, ok := metric(r, "BenchmarkSidecar/L", "change-visible-ms")
				return fmt.Sprintf("%.0f ms", v), ok, v < 1000
			}},
		row{"sidecar memory, L, default settings (RSS after load / peak)", "< 2 GiB",
			func(r map[string]metrics) (string, bool, bool) {
				rss, peak, ok := sidecarMemory(r, "BenchmarkSidecar/L")
				return fmt.Sprintf("%.0f MiB / %.0f MiB", rss, peak), ok, peak < 2048
			}},
		row{"sidecar memory, L, in a container limited to 2 GiB (soft limit 90% of it): RSS after load / peak / ready", "< 2 GiB, ready < 60 s",
			func(r map[string]metrics) (string, bool, bool) {
				const run = "BenchmarkSidecar/L/container-2GiB"
				rss, peak, ok := sidecarMemory(r, run)
				ready, _ := metric(r, run, "ready-s")
				return fmt.Sprintf("%.0f MiB / %.0f MiB / %.1f s", rss, peak, ready), ok, peak < 2048 && ready < 60
			}},
		row{"validate in CI, M, with --base (median of 3 / slowest)", "< 3 s",
			func(r map[string]metrics) (string, bool, bool) {
				v, ok := metric(r, "BenchmarkValidateBase/M", "validate-base-s")
				slowest, _ := metric(r, "BenchmarkValidateBase/M", "validate-base-max-s")
				return fmt.Sprintf("%.1f s / %.1f s", v, slowest), ok, slowest < 3
			}},
		row{"bundle size and build time (promoctl build: validate + encode)", "size ≤ 50% of the YAML",
			func(r map[string]metrics) (string, bool, bool) {
				var parts []string
				met := true
				for _, size := range []string{"M", "L"} {
					name := "BenchmarkBundle/" + size
					ratio, ok := metric(r, name, "size-ratio")
					if !ok {
						continue
					}
					mib, _ := metric(r, name, "bundle-MiB")
					yaml, _ := metric(r, name, "yaml-MiB")
					build, _ := metric(r, name, "build-s")
					parts = append(parts, fmt.Sprintf("%s: %.1f MiB = %.0f%% of %.0f MiB, built in %.1f s", size, mib, 100*ratio, yaml, build))
					met = met && ratio <= 0.5
				}
				return strings.Join(parts, "; "), len(parts) > 0, met
			}},
		row{"sidecar start to ready from a bundle vs from the YAML repo (no cache), same run, median", "≥ 5× faster; L ready < 10 s",
			func(r map[string]metrics) (string, bool, bool) {
				var parts []string
				met := true
				for _, size := range []string{"M", "L"} {
					name := "BenchmarkBundle/" + size
					ratio, ok := metric(r, name, "start-ratio")
					if !ok {
						continue
					}
					fromBundle, _ := metric(r, name, "bundle-ready-s")
					fromYAML, _ := metric(r, name, "yaml-ready-s")
					parts = append(parts, fmt.Sprintf("%s: %.2f s vs %.1f s = %.1f×", size, fromBundle, fromYAML, ratio))
					met = met && ratio >= 5 && (size != "L" || fromBundle < 10)
				}
				return strings.Join(parts, "; "), len(parts) > 0, met
			}},
		row{"sidecar memory after load, L, from YAML / from a bundle (RSS; bundle peak)", "< 1.5 GiB either way",
			func(r map[string]metrics) (string, bool, bool) {
				const name = "BenchmarkBundle/L"
				fromBundle, ok := metric(r, name, "bundle-rss-MiB")
				fromYAML, _ := metric(r, name, "yaml-rss-MiB")
				peak, _ := metric(r, name, "bundle-peak-rss-MiB")
				return fmt.Sprintf("%.0f MiB / %.0f MiB (peak %.0f MiB)", fromYAML, fromBundle, peak), ok, fromYAML < 1536 && fromBundle < 1536
			}},
		row{"console on M: slowest page, server time (which page)", "< 300 ms",
			func(r map[string]metrics) (string, bool, bool) {
				worst, page, ok := 0.0, "", false
				for name, m := range r {
					if v, has := m["ms/page"]; has && strings.HasPrefix(name, "BenchmarkConsole/M/page=") {
						ok = true
						if v > worst {
							worst, page = v, strings.TrimPrefix(name, "BenchmarkConsole/M/page=")
						}
					}
				}
				return fmt.Sprintf("%.0f ms (%s)", worst, page), ok, worst < 300
			}},
		row{"console on M: bulk revoke of all 10,000 matching customers, committed", "< 15 s",
			func(r map[string]metrics) (string, bool, bool) {
				v, ok := metric(r, "BenchmarkConsole/M/bulk-revoke-10000", "commit-s")
				return fmt.Sprintf("%.1f s", v), ok, v < 15
			}},
		row{"consume, embedded store, over HTTP, 64 concurrent keep-alive clients (bench/httpload), vs the same store's writes of the same records without HTTP (same run)", "p99 < 10 ms; ≥ 0.5 of the store without HTTP",
			func(r map[string]metrics) (string, bool, bool) {
				const name = "BenchmarkUsage/embedded"
				ratio, ok := metric(r, name, "ratio")
				ours, _ := metric(r, name, "http-consumes/s")
				base, _ := metric(r, name, "bbolt-consumes/s")
				p99, _ := metric(r, name, "http-p99-ms")
				return fmt.Sprintf("%.0f vs %.0f consumes/s = %.2f (p99 %.1f ms)%s", ours, base, ratio, p99, netHTTPNote(r, name)), ok, ratio >= 0.5 && p99 < 10
			}},
		redisRow("BenchmarkUsage/redis-4-sidecars", "appendfsync always"),
		redisRow("BenchmarkUsage/redis-4-sidecars-everysec", "appendfsync everysec"),
		row{"consume through the Go usage client (in-process, against redis-server) vs the direct script call, 64 clients each (same run)", "≥ 0.8 of the direct call",
			func(r map[string]metrics) (string, bool, bool) {
				const name = "BenchmarkUsage/go-client"
				ratio, ok := metric(r, name, "ratio")
				ours, _ := metric(r, name, "client-consumes/s")
				base, _ := metric(r, name, "script-consumes/s")
				p99, _ := metric(r, name, "client-p99-ms")
				return fmt.Sprintf("%.0f vs %.0f consumes/s = %.2f (p99 %.1f ms)", ours, base, ratio, p99), ok, ratio >= 0.8
			}},
		row{"zero overspend", "0 units over any allowance, 0 lost, 0 doubled",
			func(r map[string]metrics) (string, bool, bool) {
				return "tested, not timed: TestUsageE2E (64 clients, 4 sidecars, one redis-server, porcupine), TestStoreFailure, TestClocksApartAtMidnight (make test)", true, true
			}},
		row{"reload under load", "0 failed requests",
			func(r map[string]metrics) (string, bool, bool) {
				return "tested, not timed: TestServeE2E/burst_under_load (make test)", true, true
			}},
	)

	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmarks\n\nThe performance targets, measured by `%s` (which writes this file).\n\n", *command)
	fmt.Fprintf(&b, "- date: %s\n- Go: %s %s/%s, GOMAXPROCS %d\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0))
	for _, c := range context {
		fmt.Fprintf(&b, "- %s\n", c)
	}
	b.WriteString("- data sets: `promoctl gen --seed 1` (S = examples-sized, M = 1k promotions / 100k customers / 100k grants, L = 10k / 1M / 1M)\n\n")
	b.WriteString("| figure | target | measured | met |\n|---|---|---|---|\n")
	for _, r := range rows {
		text, measured, met := r.value(results)
		verdict := "no"
		switch {
		case !measured:
			text, verdict = "not measured in this run", "—"
		case r.target == "—":
			verdict = "—" // reported for context, no target
		case met:
			verdict = "yes"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.figure, r.target, text, verdict)
	}
	if *analysis != "" {
		if text, err := os.ReadFile(*analysis); err == nil {
			b.WriteString("\n")
			b.Write(text)
		}
	}
	b.WriteString("\n## Every benchmark line\n\n```\n")
	names := make([]string, 0, len(results))
	for n := range results {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&b, "%s", n)
		units := make([]string, 0, len(results[n]))
		for u := range results[n] {
			units = append(units, u)
		}
		sort.Strings(units)
		for _, u := range units {
			fmt.Fprintf(&b, "  %g %s", results[n][u], u)
		}
		b.WriteString("\n")
	}
	b.WriteString("```\n")
	fmt.Print(b.String())
}
