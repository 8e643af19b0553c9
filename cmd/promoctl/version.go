package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Stamped by `make build` with -ldflags "-X main.version=… -X main.commit=…
// -X main.date=…"; when empty they come from the build info the Go
// toolchain records (a module version for `go install …@vX.Y.Z`, the VCS
// commit and its time for a build from a checkout).
var (
	version string
	commit  string
	date    string
)

// buildInfo is what `promoctl version` prints.
type buildInfo struct {
	Version  string
	Commit   string
	Date     string
	Modified bool
	Go       string
}

func currentBuild() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && info.Main.Version != "" {
			b.Version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}

// cacheKey names this exact build for the snapshot cache of serve --repo
// --cache-dir: a cache written by another build (whose rules may differ)
// is not used. Development builds share a version, so the commit counts.
func (b buildInfo) cacheKey() string {
	key := b.Version
	if b.Commit != "" {
		key += " " + b.Commit
	}
	if b.Modified {
		key += " modified"
	}
	return key
}

// String is the text of `promoctl version` and `promoctl --version`.
func (b buildInfo) String() string {
	commit := orUnknown(b.Commit)
	if b.Modified && !strings.HasSuffix(commit, "-dirty") {
		commit += " (modified)"
	}
	return fmt.Sprintf("promoctl %s\ncommit: %s\ndate:   %s\ngo:     %s %s/%s\n",
		b.Version, commit, orUnknown(b.Date), b.Go, runtime.GOOS, runtime.GOARCH)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print promoctl's version, commit and build date",
		Example: `  promoctl version
  promoctl --version`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(a.stdout, currentBuild())
			return err
		},
	}
}
