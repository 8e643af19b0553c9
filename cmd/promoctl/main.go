// Command promoctl manages promotional entitlements kept as YAML in a git
// repository: it validates the repo (and its diff against a base), edits it
// with the apply-flow commands, explains decisions, and serves them as a
// sidecar.
package main

import (
	"os"
)

func main() {
	batchGC()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
