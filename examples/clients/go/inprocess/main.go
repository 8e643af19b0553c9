// Command inprocess is a Go service that decides entitlements in-process:
// the promoctl OpenFeature provider holds the compiled config repo, watches
// it, and answers without a sidecar.
//
//	go run ./examples/clients/go/inprocess -repo examples/acme -addr 127.0.0.1:3000
//	curl -i -H 'X-Customer-Id: cus_005' http://127.0.0.1:3000/settings/sso
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/open-feature/go-sdk/openfeature"

	"github.com/promoctl/promoctl/examples/clients/go/gate"
	promoctl "github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/openfeature/reposource"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inprocess:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("inprocess", flag.ContinueOnError)
	repo := flags.String("repo", "examples/acme", "config repo directory")
	addr := flags.String("addr", "127.0.0.1:3000", "address to listen on")
	if err := flags.Parse(args); err != nil {
		return err
	}

	provider := reposource.New(*repo, promoctl.Options{Log: slog.Default()})
	if err := openfeature.SetProviderAndWait(provider); err != nil {
		// Not fatal: the provider is in ERROR, answers fall back to the
		// defaults, and the first valid change makes it READY.
		slog.Warn("the config repo could not be loaded yet", slog.String("error", err.Error()))
	}
	defer openfeature.Shutdown()

	return gate.Serve(ctx, *addr, openfeature.NewDefaultClient(), out)
}
