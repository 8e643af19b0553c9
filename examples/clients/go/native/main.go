// Command native asks a promoctl sidecar for decisions over its native
// JSON API, through the Go client generated from the API's OpenAPI
// document (package apiclient), and prints each with its sources and, for
// a metered feature, its allowance buckets.
//
//	PROMOCTL_URL=http://127.0.0.1:8787 go run ./examples/clients/go/native -customer cus_001 -feature api_calls -at 2026-04-25T12:00:00Z
//
// Without -feature it prints the decision of every feature.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/promoctl/promoctl/examples/clients/go/apiclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "native:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	flags := flag.NewFlagSet("native", flag.ContinueOnError)
	sidecar := flags.String("promoctl-url", envOr("PROMOCTL_URL", "http://127.0.0.1:8787"), "the sidecar's origin")
	token := flags.String("token", os.Getenv("PROMOCTL_TOKEN"), "token, when the sidecar runs with --token-file")
	customer := flags.String("customer", "", "the customer id")
	feature := flags.String("feature", "", "the feature key (all features when empty)")
	at := flags.String("at", "", "the instant, RFC 3339 (default now)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *customer == "" {
		return errors.New("-customer is required")
	}
	client, err := newClient(*sidecar, *token)
	if err != nil {
		return err
	}
	decisions, err := decide(ctx, client, *customer, *feature, *at)
	if err != nil {
		return err
	}
	for _, d := range decisions {
		fmt.Fprint(out, describe(d))
	}
	return nil
}

// newClient is the generated client with a timeout and, when given, the
// sidecar's token on every request.
func newClient(sidecar, token string) (*apiclient.ClientWithResponses, error) {
	opts := []apiclient.ClientOption{apiclient.WithHTTPClient(&http.Client{Timeout: 5 * time.Second})}
	if token != "" {
		opts = append(opts, apiclient.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	}
	return apiclient.NewClientWithResponses(sidecar, opts...)
}

// decide asks for one feature's decision, or every feature's when feature
// is empty. An error answer becomes an error naming its code.
func decide(ctx context.Context, client *apiclient.ClientWithResponses, customer, feature, at string) ([]apiclient.Decision, error) {
	var atParam *string
	if at != "" {
		atParam = &at
	}
	if feature == "" {
		resp, err := client.GetEntitlementsWithResponse(ctx, customer, &apiclient.GetEntitlementsParams{At: atParam})
		if err != nil {
			return nil, fmt.Errorf("ask for %s's decisions: %w", customer, err)
		}
		if resp.JSON200 == nil {
			return nil, answerError(resp.StatusCode(), resp.Body)
		}
		return resp.JSON200.Entitlements, nil
	}
	resp, err := client.GetEntitlementWithResponse(ctx, customer, feature, &apiclient.GetEntitlementParams{At: atParam})
	if err != nil {
		return nil, fmt.Errorf("ask for %s's %s: %w", customer, feature, err)
	}
	if resp.JSON200 == nil {
		return nil, answerError(resp.StatusCode(), resp.Body)
	}
	return []apiclient.Decision{*resp.JSON200}, nil
}

// answerError reads an error answer, {"error":{"code","message"}}.
func answerError(status int, body []byte) error {
	var e apiclient.Error
	if err := json.Unmarshal(body, &e); err != nil || e.Error.Code == "" {
		return fmt.Errorf("the sidecar answered %d: %s", status, strings.TrimSpace(string(body)))
	}
	return fmt.Errorf("%s: %s", e.Error.Code, e.Error.Message)
}

// describe renders a decision and its sources, one per line.
func describe(d apiclient.Decision) string {
	var b strings.Builder
	access := "no access"
	if d.HasAccess {
		access = "access"
	}
	fmt.Fprintf(&b, "%s %s at %s: %s", d.Customer, d.Feature, d.At.UTC().Format(time.RFC3339), access)
	if d.FeatureType == apiclient.Metered {
		switch {
		case d.Unlimited != nil && *d.Unlimited:
			b.WriteString(", unlimited")
		case d.Allowance != nil:
			fmt.Fprintf(&b, ", allowance %d", *d.Allowance)
		}
		if d.Reset != nil {
			fmt.Fprintf(&b, " %s", *d.Reset)
		}
	}
	b.WriteString("\n")
	for _, s := range d.Sources {
		fmt.Fprintf(&b, "  %s %s", s.Kind, s.Id)
		if s.Allowance != nil {
			fmt.Fprintf(&b, " %s", allowance(*s.Allowance))
		}
		if s.Reset != nil {
			fmt.Fprintf(&b, " %s", *s.Reset)
		}
		if s.ReplacedBy != nil {
			fmt.Fprintf(&b, ", replaced by %s", *s.ReplacedBy)
		}
		b.WriteString("\n")
	}
	if d.Buckets != nil {
		for _, k := range *d.Buckets {
			fmt.Fprintf(&b, "  bucket %s: ", k.Source)
			if k.Unlimited {
				b.WriteString("unlimited")
			} else if k.Allowance != nil {
				fmt.Fprintf(&b, "%d", *k.Allowance)
			}
			fmt.Fprintf(&b, " %s%s\n", k.Reset, period(k.PeriodStart, k.PeriodEnd))
		}
	}
	return b.String()
}

// period renders a bucket's current period; a bound that is null is open.
func period(start, end *time.Time) string {
	out := ""
	if start != nil {
		out += ", from " + start.UTC().Format(time.RFC3339)
	}
	if end != nil {
		out += " until " + end.UTC().Format(time.RFC3339)
	}
	return out
}

// allowance is a count, or "unlimited".
func allowance(a apiclient.Allowance) string {
	if n, err := a.AsAllowance0(); err == nil {
		return fmt.Sprint(n)
	}
	word, _ := a.AsAllowance1()
	return string(word)
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}
