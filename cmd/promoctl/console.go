package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/config"
	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/console"
	"github.com/promoctl/promoctl/console/gitstore"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
)

type consoleOptions struct {
	addr, baseBranch, author, tokenFile, identityHeader, push string
	trustedProxies                                            []string
	logFormat, logLevel                                       string
	usageStore, dataDir                                       string
}

func (a *app) consoleCommand() *cobra.Command {
	var o consoleOptions
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Run the web console: promotions, customers and access, every change a commit on a branch",
		Long: `Run the web console for campaign operators and support. Pages are compiled
from the base branch of the repo's git repository (or a branch the console
made) and follow its new commits. Every change — create, edit, grant,
revoke, deactivate, activate — runs the apply flow on the branch's tree,
is validated with the is_applied lock, and becomes one commit on a new
branch promoctl/<action>-<id>-<yyyymmdd-hhmmss> (never on the base branch,
never in the checkout's working tree or index), authored by the operator.

It listens on loopback by default. Any other address needs --token-file (a
sign-in page sets an HttpOnly, SameSite=Strict cookie) or
--trust-identity-header with --trusted-proxy.`,
		Example: `  promoctl console --repo examples/acme --author "Ada Lovelace <ada@example.com>"
  promoctl console --addr 0.0.0.0:8790 --token-file /run/secrets/console-token --push origin
  promoctl console --repo examples/acme --usage-store http://127.0.0.1:8787
  promoctl console --addr 0.0.0.0:8790 --trust-identity-header X-Forwarded-Email --trusted-proxy 10.0.0.0/8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.console(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8790", "address to listen on")
	f.StringVar(&o.baseBranch, "base-branch", "", "branch to read and to branch from (default: the branch checked out)")
	f.StringVar(&o.author, "author", "", `commit author "Name <email>" when no identity header names the operator (default: git config user)`)
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the token that signs operators in")
	f.StringVar(&o.identityHeader, "trust-identity-header", "", "header a trusted proxy puts the operator's identity in")
	f.StringArrayVar(&o.trustedProxies, "trusted-proxy", nil, "address range (CIDR) of the proxy whose identity header is believed (repeatable)")
	f.StringVar(&o.push, "push", "", "remote to fetch the base branch from before each write and to push new branches to")
	f.StringVar(&o.usageStore, "usage-store", "", "show each metered feature's buckets with their usage on the customer page, read from "+strings.TrimPrefix(usageStoreHelp, "where usage is read: "))
	f.StringVar(&o.dataDir, "data-dir", "", "with --usage-store embedded: the sidecar's data directory")
	f.StringVar(&o.logFormat, "log-format", "text", "log format on stderr: json or text")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	return a.readsRepo(cmd)
}

func (a *app) console(ctx context.Context, o consoleOptions) error {
	log, err := newLogger(a.stderr, o.logFormat, o.logLevel)
	if err != nil {
		return err
	}
	token, err := readToken(o.tokenFile)
	if err != nil {
		return err
	}
	var proxies []netip.Prefix
	for _, p := range o.trustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			return usageError("--trusted-proxy %q: expected an address range such as 10.0.0.0/8", p)
		}
		proxies = append(proxies, prefix)
	}
	if o.identityHeader != "" && len(proxies) == 0 {
		return usageError("--trust-identity-header needs --trusted-proxy: the header is believed only from the proxy")
	}
	if len(proxies) > 0 && o.identityHeader == "" {
		return usageError("--trusted-proxy needs --trust-identity-header")
	}
	if !isLoopback(o.addr) && token == "" && o.identityHeader == "" {
		return usageError("--addr %s is not a loopback address: set --token-file, or --trust-identity-header with --trusted-proxy", o.addr)
	}
	author, err := consoleAuthor(o.author)
	if err != nil {
		return err
	}
	opts := console.Options{Repo: a.repo, BaseBranch: o.baseBranch, Author: author, Token: token,
		IdentityHeader: o.identityHeader, TrustedProxies: proxies, Push: o.push, Limits: a.limits, Log: log}
	if o.usageStore != "" {
		// Open once now so a wrong value or a file a sidecar holds is
		// refused at start; each customer page then opens it again, read
		// only, for as long as the page takes.
		_, closeUsage, err := usageTarget(o.usageStore, o.dataDir, nil)
		if err != nil {
			return err
		}
		closeUsage()
		opts.Usage = func(snap *snapshot.Snapshot) (meter.Client, func(), error) {
			return usageTarget(o.usageStore, o.dataDir, snap)
		}
	}
	srv, err := console.New(opts)
	if err != nil {
		var detached *gitstore.DetachedHeadError
		if errors.As(err, &detached) {
			return usageError("console: %v with --base-branch", err)
		}
		return usageError("console: %v", err)
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return usageError("listen on %s: %v", o.addr, err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()
	log.Info("console listening", slog.String("url", "http://"+ln.Addr().String()), slog.String("repo", a.repo),
		slog.String("base_branch", srv.BaseBranch()), slog.Bool("token", token != ""), slog.String("push", o.push))
	select {
	case err = <-serveErr:
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		err = hs.Shutdown(shutdownCtx)
		cancel()
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &exitError{code: exitUsage, err: fmt.Errorf("console: %w", err)}
	}
	return nil
}

// consoleAuthor is --author, else the user of the global git config.
func consoleAuthor(flag string) (gitstore.Signature, error) {
	if flag != "" {
		sig, err := gitstore.ParseSignature(flag)
		if err != nil {
			return sig, usageError("--author: %v", err)
		}
		return sig, nil
	}
	if cfg, err := config.LoadConfig(config.GlobalScope); err == nil && cfg.User.Name != "" && cfg.User.Email != "" {
		return gitstore.Signature{Name: cfg.User.Name, Email: cfg.User.Email}, nil
	}
	return gitstore.Signature{}, usageError(`set --author "Name <email>" (or user.name and user.email in git config): commits need an author`)
}
