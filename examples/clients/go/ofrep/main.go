// Command ofrep is a Go service that asks a promoctl sidecar over OFREP,
// with the OpenFeature OFREP provider for Go
// (github.com/open-feature/go-sdk-contrib/providers/ofrep).
//
//	PROMOCTL_URL=http://127.0.0.1:8787 go run ./examples/clients/go/ofrep -addr 127.0.0.1:3000
//	curl -i -H 'X-Customer-Id: cus_005' http://127.0.0.1:3000/settings/sso
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	ofrep "github.com/open-feature/go-sdk-contrib/providers/ofrep"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/promoctl/promoctl/examples/clients/go/gate"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ofrep:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("ofrep", flag.ContinueOnError)
	sidecar := flags.String("promoctl-url", envOr("PROMOCTL_URL", "http://127.0.0.1:8787"), "the sidecar's origin, without /ofrep")
	token := flags.String("token", os.Getenv("PROMOCTL_TOKEN"), "token, when the sidecar runs with --token-file")
	addr := flags.String("addr", "127.0.0.1:3000", "address to listen on")
	if err := flags.Parse(args); err != nil {
		return err
	}

	opts := []ofrep.Option{ofrep.WithTimeout(2 * time.Second)}
	if *token != "" {
		opts = append(opts, ofrep.WithBearerToken(*token))
	}
	if err := openfeature.SetProviderAndWait(ofrep.NewProvider(*sidecar, opts...)); err != nil {
		return fmt.Errorf("set the OFREP provider: %w", err)
	}
	defer openfeature.Shutdown()

	return gate.Serve(ctx, *addr, openfeature.NewDefaultClient(), out)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
