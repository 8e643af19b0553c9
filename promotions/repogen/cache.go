package repogen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CompleteMarker is the file Cached writes into a generated repo once every
// other file is in place. It is not YAML, so loading the repo ignores it.
const CompleteMarker = ".complete"

// CacheDirEnv names the environment variable that moves Cached's default
// root (benchmarks share one cache across packages and runs).
const CacheDirEnv = "PROMOCTL_BENCH_DIR"

// DefaultCacheRoot is $PROMOCTL_BENCH_DIR, or promoctl-bench in the
// system's temp directory.
func DefaultCacheRoot() string {
	if dir := os.Getenv(CacheDirEnv); dir != "" {
		return dir
	}
	return filepath.Join(os.TempDir(), "promoctl-bench")
}

// Cached returns root/<size>-seed<seed>, generating the preset there first
// unless a complete copy already exists. An empty root means
// DefaultCacheRoot.
//
// A repo is generated aside and renamed into place with its marker already
// written, so a crash leaves no half repo behind and two processes
// generating the same preset at once (go test runs packages in parallel)
// both end with the same complete copy.
func Cached(root, size string, seed int64) (string, error) {
	cfg, ok := Preset(size)
	if !ok {
		return "", fmt.Errorf("cached repo: unknown size %q (one of %s)", size, strings.Join(PresetNames(), ", "))
	}
	cfg.Seed = seed
	if root == "" {
		root = DefaultCacheRoot()
	}
	dir := filepath.Join(root, fmt.Sprintf("%s-seed%d", strings.ToLower(size), seed))
	if complete(dir) {
		return dir, nil
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("cached repo: %w", err)
	}
	tmp, err := os.MkdirTemp(root, "."+filepath.Base(dir)+"-")
	if err != nil {
		return "", fmt.Errorf("cached repo: %w", err)
	}
	defer os.RemoveAll(tmp) // gone after a successful rename; cleans up otherwise
	if err := Generate(tmp, cfg); err != nil {
		return "", fmt.Errorf("cached repo %s: %w", dir, err)
	}
	if err := os.WriteFile(filepath.Join(tmp, CompleteMarker), nil, 0o644); err != nil {
		return "", fmt.Errorf("cached repo %s: %w", dir, err)
	}
	if complete(dir) { // another process finished first
		return dir, nil
	}
	// A dir without its marker is what an interrupted older run left.
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("cached repo: remove incomplete %s: %w", dir, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if complete(dir) { // lost a race to another process
			return dir, nil
		}
		return "", fmt.Errorf("cached repo: %w", err)
	}
	return dir, nil
}

func complete(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, CompleteMarker))
	return err == nil
}
