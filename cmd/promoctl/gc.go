package main

import (
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Loading a repo allocates a syntax tree per file and throws it away: with
// Go's default GOGC=100 the collector runs constantly, about a third of the
// CPU of a cold load of a large repo. Commands are short batch jobs, so
// they let the heap grow four times between collections, as the Go
// compiler itself does, within a soft memory limit so that a large repo
// does not quadruple its footprint (the limit sits above the live heap of
// the largest benchmark repo, L, so that the collector does not thrash
// against it). The sidecar goes back to the defaults once its first
// snapshot serves.
//
// In a container with a memory limit (a cgroup's memory.max), the soft
// limit is 90% of it in both phases, so that a cold load collects harder
// instead of being killed: the runtime does not read cgroup limits itself.
// The sidecar, a guest in its service's pod, keeps to a budget of its own
// when no container limit is set. GOGC or GOMEMLIMIT in the environment
// always win.

const (
	batchGCPercent  = 400
	batchSoftMemory = 4 << 30
	// containerShare of a cgroup memory limit is the soft limit, leaving
	// room for what the Go runtime does not count (stacks, fragmentation).
	containerShare = 0.9
	// sidecarSoftMemory is serve's budget without a container limit: the
	// 2 GiB that BENCHMARKS.md gives the sidecar on the L repo, less the tenth
	// the runtime does not count. It costs the cold load of L a few
	// seconds of collection (BENCHMARKS.md); a larger repo wants
	// GOMEMLIMIT or a container limit.
	sidecarSoftMemory = int64(2<<30) / 10 * 9
)

// cgroupMemoryFiles hold the memory limit of the process's cgroup: v2, v1.
var cgroupMemoryFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

func batchGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(batchGCPercent)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(min(batchSoftMemory, containerSoftLimit(cgroupMemoryFiles)))
	}
}

// sidecarGC puts serve's cold load, still at the batch pace, within the
// sidecar's memory budget.
func sidecarGC() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(sidecarMemoryLimit(cgroupMemoryFiles))
	}
}

// steadyGC is the sidecar's pace once its first snapshot serves.
func steadyGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
	}
	sidecarGC()
	debug.FreeOSMemory()
}

// sidecarMemoryLimit is the container's soft limit, or sidecarSoftMemory
// outside a container limit.
func sidecarMemoryLimit(files []string) int64 {
	if limit := containerSoftLimit(files); limit != math.MaxInt64 {
		return limit
	}
	return sidecarSoftMemory
}

// containerSoftLimit is containerShare of the first cgroup memory limit
// found in files, or no limit (math.MaxInt64).
func containerSoftLimit(files []string) int64 {
	for _, f := range files {
		raw, err := os.ReadFile(f) // #nosec G304 -- fixed cgroup paths (tests pass their own)
		if err != nil {
			continue
		}
		limit, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		// "max" (v2) or a huge number (v1's "unlimited") mean no limit.
		if err != nil || limit <= 0 || limit >= 1<<60 {
			return math.MaxInt64
		}
		return int64(float64(limit) * containerShare)
	}
	return math.MaxInt64
}
