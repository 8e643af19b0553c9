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
// GOGC or GOMEMLIMIT in the environment always win.

const (
	batchGCPercent  = 400
	batchSoftMemory = 4 << 30
	// containerShare of a cgroup memory limit is the soft limit, leaving
	// room for what the Go runtime does not count (stacks, fragmentation).
	containerShare = 0.9
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

func steadyGC() {
	if os.Getenv("GOGC") != "" {
		return
	}
	debug.SetGCPercent(100)
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(containerSoftLimit(cgroupMemoryFiles))
	}
	debug.FreeOSMemory()
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
