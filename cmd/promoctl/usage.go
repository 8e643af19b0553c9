package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	usagestore "github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	sidecarclient "github.com/promoctl/promoctl/evaluator/usage/sidecar"
	"github.com/promoctl/promoctl/promotions"
)

// defaultUsageStore is where the usage commands read by default: the
// sidecar of `make run` / `promoctl serve`.
const defaultUsageStore = "http://127.0.0.1:8787"

const usageStoreHelp = "where usage is read: a sidecar (http://HOST:PORT, with $PROMOCTL_TOKEN when it has a token), the shared store (redis://… or rediss://…), or embedded (the file in --data-dir of a sidecar that is not running)"

// usageTarget opens what --usage-store names, as a meter client. snap
// gives buckets for a store read directly (nil when the command needs
// none, as release).
func usageTarget(store, dataDir string, snap *snapshot.Snapshot) (meter.Client, func(), error) {
	switch {
	case strings.HasPrefix(store, "http://"), strings.HasPrefix(store, "https://"):
		return sidecarclient.New(store, os.Getenv("PROMOCTL_TOKEN"), nil), func() {}, nil
	case strings.HasPrefix(store, "redis://"), strings.HasPrefix(store, "rediss://"):
		s, err := redis.Open(store, redis.Options{})
		if err != nil {
			return nil, nil, usageError("--usage-store: %v", err)
		}
		return meterOver(s, snap), func() { _ = s.Close() }, nil
	case store == usageStoreEmbedded:
		dir := dataDir
		if dir == "" {
			var err error
			if dir, err = defaultDataDir(); err != nil {
				return nil, nil, err
			}
		}
		s, err := bolt.Open(dir, bolt.Options{SweepEvery: -1})
		if err != nil {
			return nil, nil, usageError("%v: while a sidecar runs on it, read through the sidecar (--usage-store http://…)", dataDirHint(err))
		}
		return meterOver(s, snap), func() { _ = s.Close() }, nil
	}
	return nil, nil, usageError("--usage-store must be http(s)://…, redis://…, rediss://… or embedded, not %q", store)
}

func meterOver(s usagestore.Store, snap *snapshot.Snapshot) meter.Client {
	return meter.New(meter.SnapshotSource(func() *snapshot.Snapshot { return snap }), s, meter.Options{Timeout: 5 * time.Second})
}

// dataDirHint names the flag that gives each process its own store file
// when the usage store's file is held by another process.
func dataDirHint(err error) error {
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w (each sidecar needs its own --data-dir)", err)
	}
	return err
}

// storeError turns a failed read into an exit code and a sentence.
func storeError(err error) error {
	switch {
	case errors.Is(err, meter.ErrStoreUnavailable), errors.Is(err, usagestore.ErrUnavailable):
		return &exitError{code: exitUsage, err: fmt.Errorf("the usage store cannot be reached: %w", err)}
	case errors.Is(err, meter.ErrDisabled):
		return &exitError{code: exitUsage, err: errors.New("the sidecar runs with --usage-store off")}
	}
	return &exitError{code: exitUsage, err: err}
}

func (a *app) usageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Read and adjust metered usage in a usage store (never in git)",
		Example: `  promoctl usage show --customer cus_001 --feature api_calls
  promoctl usage show --customer cus_001 --usage-store redis://redis.internal:6379
  promoctl usage release --customer cus_001 --feature seats --key seat-add-42`,
	}
	cmd.AddCommand(a.usageShowCommand(), a.usageReleaseCommand())
	return cmd
}

func (a *app) usageShowCommand() *cobra.Command {
	var (
		q                       meter.Query
		at, format, store, data string
		attrs                   []string
	)
	cmd := &cobra.Command{
		Use:   "show --customer C [--feature F]",
		Short: "Show a customer's buckets with what each period has used and has left",
		Long: "Show, for one metered feature or every one, the customer's buckets at --at (default now) with their " +
			"usage in the store: a sidecar's, the shared Redis, or an embedded file. Read-only; adjustments go " +
			"through release or a promotion, never a counter edit.",
		Example: `  promoctl usage show --customer cus_001 --feature api_calls
  promoctl usage show --customer cus_001 --usage-store redis://127.0.0.1:6379 --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.Customer == "" {
				return usageError("usage show needs --customer")
			}
			var err error
			var when time.Time
			if at != "" {
				if when, err = parseTimeFlag("at", at, nowExact); err != nil {
					return err
				}
			}
			if q.Attributes, err = parseAttrs(attrs); err != nil {
				return err
			}
			snap, err := a.decisionSnapshot()
			if err != nil {
				return err
			}
			features, err := meteredFeatures(snap, q.Feature)
			if err != nil {
				return err
			}
			client, closeClient, err := usageTarget(store, data, snap)
			if err != nil {
				return err
			}
			defer closeClient()
			var answers []meter.UsageAnswer
			for _, f := range features {
				q.Feature = f
				u, err := client.Usage(context.Background(), q, when)
				if err != nil {
					return storeError(err)
				}
				answers = append(answers, u)
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(map[string]any{"customer": q.Customer, "usage": answers})
			}
			for _, u := range answers {
				writeUsage(a.stdout, u)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Customer, "customer", "", "customer id")
	f.StringVar(&q.Feature, "feature", "", "metered feature key (default: every metered feature)")
	f.StringVar(&at, "at", "", "read at: an RFC 3339 instant or a date; default now (counters are kept 7 days after their period)")
	f.StringVar(&q.Plan, "plan", "", "plan to use instead of the directory's")
	f.StringArrayVar(&attrs, "attr", nil, "attribute k=v to use instead of the directory's (repeatable)")
	f.StringVar(&store, "usage-store", defaultUsageStore, usageStoreHelp)
	f.StringVar(&data, "data-dir", "", "with --usage-store embedded: the sidecar's data directory")
	enumFlag(cmd, &format, "format", "output format", "text", "json")
	return a.readsRepo(cmd)
}

func (a *app) usageReleaseCommand() *cobra.Command {
	var (
		req         meter.ReleaseRequest
		store, data string
	)
	cmd := &cobra.Command{
		Use:   "release --customer C --feature F --key K",
		Short: "Give a recorded consume back to the buckets it came from",
		Long: "Give the consume recorded under an idempotency key back to its buckets, for those whose periods are " +
			"still open (seats: release one when a seat is removed). A key is remembered for the idempotency TTL " +
			"(10 minutes by default).",
		Example: `  promoctl usage release --customer cus_001 --feature seats --key seat-add-42
  promoctl usage release --customer cus_001 --feature api_calls --key req-7 --usage-store redis://127.0.0.1:6379`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Customer == "" || req.Feature == "" || req.IdempotencyKey == "" {
				return usageError("usage release needs --customer, --feature and --key")
			}
			client, closeClient, err := usageTarget(store, data, nil)
			if err != nil {
				return err
			}
			defer closeClient()
			ans, err := client.Release(context.Background(), req)
			if err != nil {
				return storeError(err)
			}
			switch ans.Outcome {
			case string(usagestore.ReleaseReleased):
				fmt.Fprintf(a.stdout, "released %d %s of %s to %s\n", ans.Amount, req.Feature, req.Customer, partsText(ans.To))
			case string(usagestore.ReleaseNotFound):
				fmt.Fprintf(a.stdout, "no consume is recorded under %q for %s's %s (never made, or older than the idempotency TTL)\n", req.IdempotencyKey, req.Customer, req.Feature)
				return &exitError{code: exitValidation, err: errors.New("nothing released")}
			case string(usagestore.ReleasePeriodClosed):
				fmt.Fprintf(a.stdout, "the periods of %q have all ended: nothing to give back\n", req.IdempotencyKey)
				return &exitError{code: exitValidation, err: errors.New("nothing released")}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Customer, "customer", "", "customer id")
	f.StringVar(&req.Feature, "feature", "", "metered feature key")
	f.StringVar(&req.IdempotencyKey, "key", "", "the idempotency key the consume was made with")
	f.StringVar(&store, "usage-store", defaultUsageStore, usageStoreHelp)
	f.StringVar(&data, "data-dir", "", "with --usage-store embedded: the sidecar's data directory")
	return cmd
}

// meteredFeatures is the feature asked for, checked, or every metered one.
func meteredFeatures(snap *snapshot.Snapshot, feature string) ([]string, error) {
	if feature != "" {
		f := snap.Model.Features[feature]
		if f == nil {
			return nil, queryError(snap, feature, evaluator.ErrFeatureNotFound)
		}
		if f.Type != promotions.FeatureMetered {
			return nil, usageError("--feature %s is boolean: usage is kept for metered features", feature)
		}
		return []string{feature}, nil
	}
	var out []string
	for _, k := range promotions.SortedKeys(snap.Model.Features) {
		if snap.Model.Features[k].Type == promotions.FeatureMetered {
			out = append(out, k)
		}
	}
	return out, nil
}

func partsText(parts []meter.Part) string {
	var s []string
	for _, p := range parts {
		s = append(s, fmt.Sprintf("%s (%d)", p.Bucket, p.Amount))
	}
	return strings.Join(s, ", ")
}

// writeUsage prints one feature's buckets with their usage.
func writeUsage(w io.Writer, u meter.UsageAnswer) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s at %s (%s store):", u.Customer, u.Feature, u.At.UTC().Format(time.RFC3339), u.Store)
	switch {
	case u.Unlimited:
		b.WriteString(" unlimited")
	case u.Remaining == nil:
		b.WriteString(" usage of this period no longer kept")
	default:
		fmt.Fprintf(&b, " %d left", *u.Remaining)
	}
	if u.NextReset != nil {
		fmt.Fprintf(&b, ", next reset %s", u.NextReset.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
	if len(u.Buckets) == 0 {
		b.WriteString("  no bucket: nothing may be consumed\n")
	}
	for _, bk := range u.Buckets {
		b.WriteString("  " + usageLine(bk) + "\n")
	}
	_, _ = io.WriteString(w, b.String())
}

func usageLine(bk meter.BucketUsage) string {
	allowance := fmt.Sprint(bk.Allowance)
	if bk.Unlimited {
		allowance = "unlimited"
	}
	start, end := "-∞", "+∞"
	if bk.PeriodStart != nil {
		start = bk.PeriodStart.UTC().Format(time.RFC3339)
	}
	if bk.PeriodEnd != nil {
		end = bk.PeriodEnd.UTC().Format(time.RFC3339)
	}
	line := fmt.Sprintf("%s %s %s, period [%s, %s): ", bk.Source, allowance, bk.Reset, start, end)
	switch {
	case bk.Used == nil:
		line += "usage no longer kept"
	case bk.Unlimited:
		line += fmt.Sprintf("used %d", *bk.Used)
	default:
		line += fmt.Sprintf("used %d, %d left", *bk.Used, *bk.Remaining)
		if *bk.Overage > 0 {
			line += fmt.Sprintf(", %d over", *bk.Overage)
		}
	}
	if bk.State == meter.StateSuspended {
		line += fmt.Sprintf(" (suspended by %s)", bk.SuspendedBy)
	}
	return line
}
