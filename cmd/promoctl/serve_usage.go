package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	usagestore "github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
)

// usageOptions are the flags that choose and tune the usage store.
type usageOptions struct {
	store          string
	dataDir        string
	idempotencyTTL time.Duration
	retention      time.Duration
	timeout        time.Duration
}

// The values of --usage-store that are not URLs.
const (
	usageStoreEmbedded = "embedded"
	usageStoreOff      = "off"
)

func addUsageFlags(f *pflag.FlagSet, o *usageOptions) {
	f.StringVar(&o.store, "usage-store", usageStoreEmbedded, "where usage counters live: embedded (a file in --data-dir, one per sidecar), redis://HOST:PORT or rediss://… (shared by every sidecar), or off")
	f.StringVar(&o.dataDir, "data-dir", "", "directory of the embedded usage store and of the spool kept while a shared store is down (default: the user's state directory, e.g. ~/.local/state/promoctl; never inside the config repo)")
	f.DurationVar(&o.idempotencyTTL, "idempotency-ttl", usagestore.DefaultIdempotencyTTL, "how long a consume's idempotency key is remembered")
	f.DurationVar(&o.retention, "usage-retention", usagestore.DefaultRetention, "how long a counter is kept after its period ends (reads with a past at)")
	f.DurationVar(&o.timeout, "usage-timeout", 25*time.Millisecond, "timeout of each call to the usage store")
}

// defaultDataDir is the user's state directory for promoctl:
// $XDG_STATE_HOME/promoctl, else ~/.local/state/promoctl.
func defaultDataDir() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "promoctl"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "", usageError("no home directory for the usage store: set --data-dir")
	}
	return filepath.Join(home, ".local", "state", "promoctl"), nil
}

// insideDir reports whether path is dir or lies below it, comparing real
// paths where they exist.
func insideDir(path, dir string) bool {
	real := func(p string) string {
		abs, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		// The data directory may not exist yet: resolve its nearest
		// existing parent.
		for cur, rest := abs, ""; ; {
			if r, err := filepath.EvalSymlinks(cur); err == nil {
				return filepath.Join(r, rest)
			}
			parent := filepath.Dir(cur)
			if parent == cur {
				return abs
			}
			rest = filepath.Join(filepath.Base(cur), rest)
			cur = parent
		}
	}
	rel, err := filepath.Rel(real(dir), real(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// openUsage opens the usage store the options name and the meter over it;
// close releases both. repo, when set, is the config repo the data
// directory must stay out of.
func openUsage(o usageOptions, repo string, src meter.Source, log *slog.Logger) (m *meter.Meter, closeAll func(), err error) {
	if o.store == usageStoreOff {
		return nil, func() {}, nil
	}
	if o.idempotencyTTL <= 0 || o.retention <= 0 || o.timeout <= 0 {
		return nil, nil, usageError("--idempotency-ttl, --usage-retention and --usage-timeout must be positive")
	}
	dir := o.dataDir
	if dir == "" {
		if dir, err = defaultDataDir(); err != nil {
			return nil, nil, err
		}
	}
	if repo != "" && insideDir(dir, repo) {
		return nil, nil, usageError("--data-dir %s lies inside the config repo %s: usage is runtime data and never goes into git; choose a directory outside it", dir, repo)
	}
	opts := meter.Options{Timeout: o.timeout, Retention: o.retention, Log: log}
	boltOpts := bolt.Options{Retention: o.retention, IdempotencyTTL: o.idempotencyTTL}
	var (
		store usagestore.Store
		spool *bolt.Store
	)
	switch {
	case o.store == usageStoreEmbedded:
		// Opened on first use: a sidecar that never meters touches no
		// file, and one that cannot open it still serves decisions.
		store = bolt.NewLazy(dir, boltOpts)
	case strings.HasPrefix(o.store, "redis://"), strings.HasPrefix(o.store, "rediss://"):
		if spool, err = bolt.Open(dir, boltOpts); err != nil {
			return nil, nil, usageError("the spool of the shared usage store: %v", dataDirHint(err))
		}
		if store, err = redis.Open(o.store, redis.Options{Retention: o.retention, IdempotencyTTL: o.idempotencyTTL}); err != nil {
			_ = spool.Close()
			return nil, nil, usageError("--usage-store: %v", err)
		}
		opts.Spool = spool
	default:
		return nil, nil, usageError("--usage-store must be embedded, off, or a redis:// or rediss:// URL, not %q", o.store)
	}
	m = meter.New(src, store, opts)
	log.Info("usage store", slog.String("store", store.Name()), slog.String("data_dir", dir))
	return m, func() {
		m.Close()
		_ = store.Close()
		if spool != nil {
			_ = spool.Close()
		}
	}, nil
}
