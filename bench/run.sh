#!/usr/bin/env bash
# make bench: measures every performance target on generated data sets and
# writes BENCHMARKS.md. Data sets are generated once into .bench/ (or
# $PROMOCTL_BENCH_DIR) and reused. BENCH_SIZES=S,M skips the L runs
# (L needs about 4 GiB of memory and most of the run time).
set -euo pipefail
cd "$(dirname "$0")/.."

export PROMOCTL_BENCH_DIR="${PROMOCTL_BENCH_DIR:-$PWD/.bench}"
sizes="${BENCH_SIZES:-S,M,L}"
mkdir -p "$PROMOCTL_BENCH_DIR"
log="$PROMOCTL_BENCH_DIR/bench.log"
: > "$log"
start=$(date +%s)

run() { # title, then the command; output goes to the log and the screen
	echo "== $1" | tee -a "$log"
	shift
	"$@" 2>&1 | tee -a "$log"
}

has() { [[ ",$sizes," == *",$1,"* ]]; }

run "in-process decisions ($sizes)" \
	env PROMOCTL_BENCH_SIZES="$sizes" go test ./evaluator -run '^$' -bench '^BenchmarkDecide$' -benchtime 200000x -timeout 30m
run "HTTP single decision vs bare net/http (S; unpinned, then server and client pinned to a core each)" \
	env PROMOCTL_BENCH_SIZES=S go test ./evaluator/server -run '^$' -bench '^BenchmarkHTTPDecision$' -benchtime 1x -timeout 30m
run "in-process evaluation through the OpenFeature client (M)" \
	env PROMOCTL_BENCH_SIZES=M go test ./openfeature -run '^$' -bench '^BenchmarkOpenFeature$' -benchtime 200000x -timeout 30m
for size in M L; do # one process per size and source, so that each reads its own peak
	if has "$size"; then
		for source in bundle repo; do
			run "in-process provider memory ($size, $source)" \
				env PROMOCTL_BENCH_SIZES="$size" go test ./openfeature -run '^$' -bench "^BenchmarkProviderMemory/$size/$source\$" -benchtime 1x -timeout 30m
		done
	fi
done
if [ -f bench/opa/go.mod ]; then
	run "OPA peer (M)" \
		bash -c 'cd bench/opa && PROMOCTL_BENCH_SIZES=M go test -mod=mod -run "^$" -bench OPA -benchtime 1s -timeout 30m'
fi
run "sidecar: cold start, memory, change to answer ($sizes)" \
	env PROMOCTL_BENCH_SIZES="$sizes" go test ./cmd/promoctl -run '^$' -bench '^BenchmarkSidecar$' -benchtime 1x -timeout 30m
run "bundles: size, build time, start from a bundle vs from YAML ($sizes)" \
	env PROMOCTL_BENCH_SIZES="$sizes" go test ./cmd/promoctl -run '^$' -bench '^BenchmarkBundle$' -benchtime 1x -timeout 60m
run "usage: consumes on the embedded store and on a shared redis-server, 64 clients" \
	go test ./cmd/promoctl -run '^$' -bench '^BenchmarkUsage$' -benchtime 1x -timeout 30m
if has M; then
	run "validate --base (M)" \
		env PROMOCTL_BENCH_SIZES=M go test ./cmd/promoctl -run '^$' -bench '^BenchmarkValidateBase$' -benchtime 1x -timeout 30m
fi

if has M; then
	run "console pages and a 10,000-customer bulk action (M)" \
		env PROMOCTL_BENCH_SIZES=M go test ./console -run '^$' -bench '^BenchmarkConsole$' -benchtime 5x -timeout 30m
fi

go run ./bench/report -analysis bench/analysis.md -command "make bench (BENCH_SIZES=$sizes), $(( $(date +%s) - start )) s" < "$log" > BENCHMARKS.md
echo "wrote BENCHMARKS.md in $(( $(date +%s) - start )) s"
