package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/internal/suggest"
	"github.com/promoctl/promoctl/promotions"
)

func (a *app) explainCommand() *cobra.Command {
	var (
		q                 evaluator.Query
		at, format        string
		attrs             []string
		usageURL, dataDir string
	)
	cmd := &cobra.Command{
		Use:   "explain --customer C --feature F",
		Short: "Show the decision the sidecar would give, with its sources",
		Example: `  promoctl explain --customer cus_001 --feature api_calls --at 2026-04-25T12:00:00Z
  promoctl explain --customer cus_004 --feature sso --at 2026-05-10
  promoctl explain --customer new_user --feature api_calls --plan growth --attr region=eu --format json
  promoctl explain --customer cus_001 --feature api_calls --usage-store http://127.0.0.1:8787`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if q.Customer == "" || q.Feature == "" {
				return usageError("explain needs --customer and --feature")
			}
			if format != "text" && format != "json" {
				return usageError("--format must be text or json, not %q", format)
			}
			var err error
			if q.At, err = parseTimeFlag("at", at, nowExact); err != nil {
				return err
			}
			if q.Attributes, err = parseAttrs(attrs); err != nil {
				return err
			}
			snap, err := a.decisionSnapshot()
			if err != nil {
				return err
			}
			q.Explain = true
			d, err := evaluator.Decide(snap, q)
			if err != nil {
				return queryError(snap, q.Feature, err)
			}
			a.warnUnknownCustomer(d.Directory && !d.CustomerKnown, q.Customer)
			var used *meter.UsageAnswer
			if usageURL != "" && d.FeatureType == promotions.FeatureMetered {
				u, err := readUsage(usageURL, dataDir, snap, q)
				if err != nil {
					return err
				}
				used = &u
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false) // names such as "Lindqvist & Daughters" stay as written
				enc.SetIndent("", "  ")
				if used != nil {
					return enc.Encode(withUsage(d, used))
				}
				return enc.Encode(d)
			}
			writeExplanation(a.stdout, d)
			if used != nil {
				writeUsage(a.stdout, *used)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&q.Customer, "customer", "", "customer id")
	f.StringVar(&q.Feature, "feature", "", "feature key")
	f.StringVar(&at, "at", "", "decide at: an RFC 3339 instant, or a date (its 00:00 UTC); default now")
	f.StringVar(&q.Plan, "plan", "", "plan to use instead of the directory's")
	f.StringArrayVar(&attrs, "attr", nil, "attribute k=v to use instead of the directory's (repeatable)")
	enumFlag(cmd, &format, "format", "output format", "text", "json")
	f.StringVar(&usageURL, "usage-store", "", "also show each bucket's usage, read from "+strings.TrimPrefix(usageStoreHelp, "where usage is read: "))
	f.StringVar(&dataDir, "data-dir", "", "with --usage-store embedded: the sidecar's data directory")
	return a.readsRepo(cmd)
}

// readUsage reads a decision's buckets' usage at the query's instant.
func readUsage(store, dataDir string, snap *snapshot.Snapshot, q evaluator.Query) (meter.UsageAnswer, error) {
	client, closeClient, err := usageTarget(store, dataDir, snap)
	if err != nil {
		return meter.UsageAnswer{}, err
	}
	defer closeClient()
	u, err := client.Usage(context.Background(), meter.Query{Customer: q.Customer, Feature: q.Feature, Plan: q.Plan, Attributes: q.Attributes}, q.At)
	if err != nil {
		return meter.UsageAnswer{}, storeError(err)
	}
	return u, nil
}

// withUsage is a decision's JSON with its usage added as "usage".
func withUsage(d evaluator.Decision, u *meter.UsageAnswer) any {
	raw, err := json.Marshal(d)
	if err != nil {
		return d
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return d
	}
	if m["usage"], err = json.Marshal(u); err != nil {
		return d
	}
	return m
}

// decisionSnapshot loads the repo and builds the snapshot decisions are
// made from; an invalid repo is refused (exit 1).
func (a *app) decisionSnapshot() (*snapshot.Snapshot, error) {
	res, err := a.load(a.options())
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		_ = report.Report{Diagnostics: withLimitHints(res.Diagnostics.Errors())}.WriteText(a.stderr)
		return nil, &exitError{code: exitValidation, err: fmt.Errorf("the repo is invalid: run promoctl validate")}
	}
	snap, err := snapshot.Build(res.Model, res.ContentHash)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	return snap, nil
}

// queryError turns a decision's error into a usage error (exit 2) that
// names the closest known feature or plan: a typo must not pass for "no
// access".
func queryError(snap *snapshot.Snapshot, feature string, err error) error {
	var unknownPlan *evaluator.UnknownPlanError
	switch {
	case errors.Is(err, evaluator.ErrFeatureNotFound):
		keys := promotions.SortedKeys(snap.Model.Features)
		return usageError("--feature: feature %q is not defined%s", feature, suggest.DidYouMean(suggest.Closest(feature, keys)))
	case errors.As(err, &unknownPlan):
		return usageError("--plan: %v", err)
	}
	return &exitError{code: exitValidation, err: err}
}

// warnUnknownCustomer says, on stderr, that the directory does not know
// the customer: the answer is then for a customer with no plan (or the
// query's), which is rarely what a typo meant.
func (a *app) warnUnknownCustomer(unknown bool, customer string) {
	if !unknown {
		return
	}
	fmt.Fprintf(a.stderr, "warning: customer %q is not in the customer directory; deciding with no plan and no attributes but those given\n", customer)
}

func parseAttrs(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageError("--attr %q: expected key=value", p)
		}
		out[k] = v
	}
	return out, nil
}

func writeExplanation(w interface{ Write([]byte) (int, error) }, d evaluator.Decision) {
	var b strings.Builder
	verdict := "no access"
	if d.HasAccess {
		verdict = "access"
	}
	fmt.Fprintf(&b, "%s may use %s (%s) at %s: %s", d.Customer, d.Feature, d.FeatureType, d.At.UTC().Format(time.RFC3339), verdict)
	if d.FeatureType == promotions.FeatureMetered {
		fmt.Fprintf(&b, ", allowance %s", d.Allowance)
		if d.Reset != "" {
			fmt.Fprintf(&b, " (reset %s)", d.Reset)
		}
	}
	b.WriteString("\n")
	if !d.NextReset.IsZero() {
		fmt.Fprintf(&b, "next reset %s\n", d.NextReset.Format(time.RFC3339))
	}
	if !d.ValidUntil.IsZero() {
		fmt.Fprintf(&b, "valid until %s\n", d.ValidUntil.Format(time.RFC3339))
	}
	if len(d.Sources) == 0 {
		b.WriteString("sources: none (no plan entitlement, no contributing promotion)\n")
	} else {
		b.WriteString("sources:\n")
	}
	for _, s := range d.Sources {
		fmt.Fprintf(&b, "  %-9s %s", s.Kind, s.ID)
		if s.Mode != "" {
			fmt.Fprintf(&b, " %s", s.Mode)
		}
		if s.Metered {
			fmt.Fprintf(&b, " %s", s.Allowance)
		}
		if s.Reset != "" {
			fmt.Fprintf(&b, " %s", s.Reset)
		}
		if by := d.ReplacedBy(s); by != "" {
			fmt.Fprintf(&b, ", replaced by %s", by)
		}
		if s.Kind == evaluator.SourcePromotion {
			fmt.Fprintf(&b, ", %s grant from %s", s.Grant, s.GrantedAt.Format(time.RFC3339))
			if !s.ValidUntil.IsZero() {
				fmt.Fprintf(&b, " until %s", s.ValidUntil.Format(time.RFC3339))
			} else {
				b.WriteString(", no end")
			}
		}
		b.WriteString("\n")
	}
	writeBuckets(&b, d)
	if len(d.NotContributing) > 0 {
		b.WriteString("not contributing:\n")
	}
	for _, nc := range d.NotContributing {
		fmt.Fprintf(&b, "  %s: %s\n", nc.ID, nc.Why())
	}
	if d.Directory && !d.CustomerKnown {
		b.WriteString("customer not in the directory\n")
	}
	fmt.Fprintf(&b, "revision %s\n", d.Revision)
	_, _ = w.Write([]byte(b.String()))
}

// writeBuckets lists a metered decision's buckets in consumption order,
// each with its current period, then those an override replaces.
func writeBuckets(b *strings.Builder, d evaluator.Decision) {
	if len(d.Buckets)+len(d.Replaced) == 0 {
		return
	}
	b.WriteString("buckets, in consumption order (the allowance is their sum at this instant, not a quota per period):\n")
	for i := range d.Buckets {
		fmt.Fprintf(b, "  %d. %s\n", d.Buckets[i].Order, bucketLine(&d.Buckets[i]))
	}
	for i := range d.Replaced {
		fmt.Fprintf(b, "  -  %s, replaced by %s\n", bucketLine(&d.Replaced[i]), d.Replaced[i].ReplacedBy)
	}
}

func bucketLine(bk *evaluator.Bucket) string {
	start, end := "-∞", "+∞"
	if t := bk.Period.StartTime(); !t.IsZero() {
		start = t.Format(time.RFC3339)
	}
	if t := bk.Period.EndTime(); !t.IsZero() {
		end = t.Format(time.RFC3339)
	}
	return fmt.Sprintf("%s %s %s %s, period [%s, %s)", bk.Source.Kind, bk.Source.ID, bk.Source.Allowance, bk.Reset(), start, end)
}
