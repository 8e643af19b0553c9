package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/evaluator/server"
	bundlesource "github.com/promoctl/promoctl/evaluator/source/bundle"
	"github.com/promoctl/promoctl/evaluator/source/repo"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/watch"
	"github.com/promoctl/promoctl/internal/fsutil"
)

// shutdownGrace bounds how long the sidecar takes to stop after SIGTERM:
// in-flight requests may finish until then. Kubernetes' default grace
// period is 30 s.
const shutdownGrace = 10 * time.Second

type serveOptions struct {
	addr, tokenFile, logFormat, logLevel string
	poll, debounce                       time.Duration
	insecure                             bool
	// bundle serves a bundle file or URL instead of the repo.
	bundle, verifyKey, cacheDir string
	maxBundleSize               byteSize
	allowRollback               bool
	firstFetchTimeout           time.Duration
	repoSet                     bool
	usage                       usageOptions
}

// defaultBundlePoll is how often a bundle URL is polled without --poll.
const defaultBundlePoll = 10 * time.Second

// usageTokenHint tells a usage request that came off loopback without a
// token which flags the operator must set; the server names no flag itself.
const usageTokenHint = "serve --token-file, whatever --insecure says" // #nosec G101 -- flag names, not a credential

func (a *app) serveCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the sidecar: watch the repo and answer entitlement queries over HTTP",
		Long: `Run the sidecar. It loads and validates the repo, serves decisions from an
in-memory snapshot, and reloads on every change (last known good: a change
that fails validation is not applied). Routes: /v1/... (native API, usage
under /v1/usage/...), /ofrep/v1/... (OpenFeature OFREP), /v1/status,
/healthz, /readyz, /metrics, and /openapi.json (the API's OpenAPI document,
docs/openapi.yaml).`,
		Example: `  promoctl serve --repo examples/acme
  promoctl serve --repo /git/config --addr 0.0.0.0:8787 --token-file /etc/promoctl/token
  promoctl serve --bundle https://bundles.example.com/acme.bundle --verify-key ci.pub --cache-dir /var/cache/promoctl
  promoctl serve --repo /git/config --usage-store redis://redis.internal:6379 --token-file /etc/promoctl/token
  curl -s 'http://127.0.0.1:8787/v1/customers/cus_001/entitlements/api_calls?at=2026-04-25T12:00:00Z'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.repoSet = cmd.Flags().Changed("repo")
			return a.serve(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8787", "address to listen on")
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the token required on /v1 and /ofrep routes")
	f.DurationVar(&o.poll, "poll", 0, "also rescan the repo at this interval (for file systems without inotify), e.g. 5s")
	f.DurationVar(&o.debounce, "debounce", watch.DefaultDebounce, "quiet period after a change before reloading")
	f.BoolVar(&o.insecure, "insecure", false, "allow a non-loopback --addr without --token-file")
	enumFlag(cmd, &o.logFormat, "log-format", "log format on stderr", "json", "text")
	enumFlag(cmd, &o.logLevel, "log-level", "log level", "info", "debug", "warn", "error")
	f.StringVar(&o.bundle, "bundle", "", "serve a bundle (promoctl build) from a file, watched, or an http(s) URL, polled; instead of --repo")
	f.StringVar(&o.verifyKey, "verify-key", "", "ed25519 public key (PEM) that must have signed every bundle served")
	f.StringVar(&o.cacheDir, "cache-dir", "", "directory (only its owner may write it) for the downloaded bundle of --bundle URL, or for the snapshot cache of --repo")
	o.maxBundleSize = byteSize(bundle.DefaultMaxSize)
	f.Var(&o.maxBundleSize, "max-bundle-size", "largest bundle accepted (KiB, MiB, GiB)")
	f.BoolVar(&o.allowRollback, "allow-rollback", false, "serve a bundle older than the serving one (a deliberate revert); refused otherwise")
	f.DurationVar(&o.firstFetchTimeout, "first-fetch-timeout", bundlesource.DefaultFirstFetchTimeout, "with --bundle URL and a cached bundle: serve the cache when the first download takes longer")
	addUsageFlags(f, &o.usage)
	return a.readsRepo(cmd)
}

func (a *app) serve(ctx context.Context, o serveOptions) error {
	log, err := newLogger(a.stderr, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	if o.debounce <= 0 {
		return usageError("--debounce must be positive, not %s", o.debounce)
	}
	if o.poll < 0 {
		return usageError("--poll must not be negative")
	}
	if o.firstFetchTimeout <= 0 {
		return usageError("--first-fetch-timeout must be positive, not %s", o.firstFetchTimeout)
	}
	token, err := readToken(o.tokenFile)
	if err != nil {
		return err
	}
	if token == "" && !o.insecure && !isLoopback(o.addr) {
		return usageError("--addr %s is not a loopback address: set --token-file, or --insecure to serve without a token", o.addr)
	}
	loader, err := a.serveLoader(o, log)
	if err != nil {
		return err
	}

	// The usage store is set up before anything is bound: its flags are
	// checked like the others (the embedded file itself opens on first
	// use).
	st := store.New(loader, log)
	repoDir := a.repo
	if o.bundle != "" {
		repoDir = ""
	}
	metered, closeUsage, err := openUsage(o.usage, repoDir, meter.SnapshotSource(st.Snapshot), log)
	if err != nil {
		return err
	}
	defer closeUsage()

	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usageError("listen on %s: %v", o.addr, err)
	}
	sidecarGC()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	build := currentBuild()
	handler := server.New(server.Config{Source: st, Token: token, Log: log, Version: build.Version,
		Usage: metered, UsageNeedsToken: token == "" && !isLoopback(o.addr),
		UsageTokenHint: usageTokenHint})
	srv := server.HTTPServer(o.addr, handler, log)

	poll := o.poll
	if poll == 0 && o.bundle != "" && bundlesource.IsURL(o.bundle) {
		poll = defaultBundlePoll
	}
	watchCtx, stopWatch := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var steady sync.Once
		reload := func(ctx context.Context) {
			if st.Reload(ctx) == store.Swapped {
				// The cold load ran with a lazy collector (see gc.go);
				// a long-running sidecar collects at the usual pace.
				steady.Do(steadyGC)
			}
		}
		var err error
		switch {
		case o.bundle != "" && bundlesource.IsURL(o.bundle):
			pollURL(watchCtx, reload, poll)
		case o.bundle != "":
			// A file is watched through its directory: it may be replaced
			// by a rename (an atomic publish) or a link swap.
			err = watch.Run(watchCtx, filepath.Dir(o.bundle), reload, watch.Options{Debounce: o.debounce, Poll: o.poll, Log: log})
		default:
			err = watch.Run(watchCtx, a.repo, reload, watch.Options{Debounce: o.debounce, Poll: o.poll, Log: log})
		}
		if err != nil {
			log.Error("watcher stopped", slog.String("error", err.Error()))
		}
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("listening",
		slog.String("version", build.Version),
		slog.String("commit", build.Commit),
		slog.String("addr", ln.Addr().String()),
		slog.String("source", loader.Describe()),
		slog.Bool("auth", token != ""),
		slog.String("debounce", o.debounce.String()),
		slog.String("poll", poll.String()),
		slog.Int64("memory_limit", debug.SetMemoryLimit(-1)))

	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	// Everything below ends within shutdownGrace: in-flight requests get
	// until then, and a reload still running is abandoned (it writes
	// nothing), so no file of the repo can hold the process up.
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	stopWatch()
	if shutdownErr := srv.Shutdown(shutdownCtx); err == nil {
		err = shutdownErr
	}
	watcherDone := make(chan struct{})
	go func() { wg.Wait(); close(watcherDone) }()
	select {
	case <-watcherDone:
		if f, ok := loader.(interface{ Flush() }); ok {
			f.Flush() // a snapshot cache write in flight
		}
	case <-shutdownCtx.Done():
		log.Warn("a reload is still running; stopping without waiting for it")
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &exitError{code: exitUsage, err: fmt.Errorf("serve: %w", err)}
	}
	log.Info("stopped")
	return nil
}

// serveLoader picks what the sidecar serves: a bundle (file or URL) or
// the repo, with its snapshot cache when --cache-dir is set.
func (a *app) serveLoader(o serveOptions, log *slog.Logger) (store.Loader, error) {
	if o.bundle == "" {
		if o.verifyKey != "" {
			return nil, usageError("--verify-key needs --bundle")
		}
		if info, err := os.Stat(a.repo); err == nil && !info.IsDir() {
			return nil, usageError("repo %s is not a directory", a.repo)
		}
		l := repo.NewLoader(a.repo, a.limits, log)
		if o.cacheDir != "" {
			if _, err := l.WithSnapshotCache(o.cacheDir, currentBuild().cacheKey()); err != nil {
				var dir *repo.CacheDirError
				if errors.As(err, &dir) {
					return nil, usageError("--cache-dir: %v", dir.Err)
				}
				return nil, usageError("%v", err)
			}
		}
		return l, nil
	}
	if o.repoSet {
		return nil, usageError("--bundle and --repo are exclusive: serve one source")
	}
	key, err := readVerifyKey(o.verifyKey)
	if err != nil {
		return nil, err
	}
	opts := bundlesource.Options{Key: key, MaxSize: int64(o.maxBundleSize), Log: log,
		AllowRollback: o.allowRollback, FirstFetchTimeout: o.firstFetchTimeout}
	if o.cacheDir != "" {
		if !bundlesource.IsURL(o.bundle) {
			return nil, usageError("--cache-dir with --bundle needs a URL: a bundle file is its own cache")
		}
		if err := fsutil.PrivateDir(o.cacheDir); err != nil {
			return nil, usageError("--cache-dir: %v", err)
		}
		opts.CacheDir = o.cacheDir
	}
	return rollbackHint{bundlesource.New(o.bundle, opts)}, nil
}

// rollbackHint adds the flag that accepts an older bundle to a rollback
// refusal (the library's errors name no flags). Embedding the loader
// keeps the methods the store and serve look for (status, Flush).
type rollbackHint struct{ *bundlesource.Loader }

func (h rollbackHint) Load(ctx context.Context) (*store.Loaded, error) {
	loaded, err := h.Loader.Load(ctx)
	var rollback *bundlesource.RollbackError
	if errors.As(err, &rollback) {
		err = fmt.Errorf("%w (start serve with --allow-rollback to serve it)", err)
	}
	return loaded, err
}

// pollURL reloads at once and then every interval until ctx is done.
func pollURL(ctx context.Context, reload func(context.Context), interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		reload(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func newLogger(w interface{ Write([]byte) (int, error) }, format, level string) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError("--log-level must be debug, info, warn or error, not %q", level)
	}
	opts := &slog.HandlerOptions{Level: lvl}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	default:
		return nil, usageError("--log-format must be json or text, not %q", format)
	}
}

// readToken reads the token file; surrounding white space (the newline an
// editor adds) is not part of the token.
func readToken(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	raw, err := os.ReadFile(path) // #nosec G304 -- the operator's own --token-file
	if err != nil {
		return "", usageError("--token-file: %v", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return "", usageError("--token-file %s is empty", path)
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return "", usageError("--token-file %s: the token must be one line without spaces", path)
	}
	return token, nil
}

// isLoopback reports whether addr binds only the loopback interface. An
// empty host (":8787") binds every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
