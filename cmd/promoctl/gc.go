package main

import (
	"math"
	"os"
	"runtime/debug"
)

// Loading a repo allocates a syntax tree per file and throws it away: with
// Go's default GOGC=100 the collector runs constantly, about a third of the
// CPU of a cold load of a large repo. Commands are short batch jobs, so
// they let the heap grow four times between collections, as the Go
// compiler itself does, within a soft memory limit so that a large repo
// does not quadruple its footprint (the limit sits above the live heap of
// the largest benchmark repo, L, so that the collector does not thrash
// against it). The sidecar goes back to the defaults
// once its first snapshot serves. GOGC or GOMEMLIMIT in the environment
// always win.

const (
	batchGCPercent  = 400
	batchSoftMemory = 4 << 30
)

func batchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(batchGCPercent)
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(batchSoftMemory)
		}
	}
}

func steadyGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(100)
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(math.MaxInt64)
		}
		debug.FreeOSMemory()
	}
}
