package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/internal/suggest"
	"github.com/promoctl/promoctl/promotions"
)

// customerCommand is the support view: "what does customer C have?"
func (a *app) customerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "customer",
		Short:   "Look one customer up (customer show)",
		Example: "  promoctl customer show cus_021 --at 2026-05-12",
		Args:    noArgs,
	}
	var (
		q                 evaluator.Query
		at, format        string
		attrs             []string
		usageURL, dataDir string
	)
	show := &cobra.Command{
		Use:   "show C",
		Short: "Show a customer's directory record, every promotion that names or covers them, and each feature's decision",
		Long: `Show the support view of one customer: the directory record, every
promotion that names the customer or covers them through grants.all — with
the stored state, the effective state at --at and every period — and the
decision for every feature at --at, with why each other promotion gives
nothing. --plan and --attr stand in for the directory's, as in explain.`,
		Example: `  promoctl customer show cus_021 --at 2026-05-12
  promoctl customer show cus_021 --format json
  promoctl customer show cus_001 --usage-store http://127.0.0.1:8787`,
		Args: exactArgs(arg{"C", "the customer id"}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return usageError("--format must be text or json, not %q", format)
			}
			var err error
			if q.At, err = atFlag(at); err != nil {
				return err
			}
			if q.Attributes, err = parseAttrs(attrs); err != nil {
				return err
			}
			q.Customer = args[0]
			snap, err := a.decisionSnapshot()
			if err != nil {
				return err
			}
			v, err := evaluator.ViewCustomer(snap, q)
			if errors.Is(err, evaluator.ErrCustomerNotFound) {
				ids := snap.Model.CustomerIDs()
				return &exitError{code: exitValidation, err: fmt.Errorf("customer %q is not in the directory and no promotion names it%s",
					q.Customer, suggest.DidYouMean(suggest.Closest(q.Customer, ids)))}
			}
			if err != nil {
				return queryError(snap, "", err)
			}
			a.warnUnknownCustomer(v.Directory && !v.Known, q.Customer)
			var used []meter.UsageAnswer
			if usageURL != "" {
				for _, d := range v.Decisions {
					if d.FeatureType != promotions.FeatureMetered {
						continue
					}
					fq := q
					fq.Feature = d.Feature
					u, err := readUsage(usageURL, dataDir, snap, fq)
					if err != nil {
						return err
					}
					used = append(used, u)
				}
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if usageURL != "" {
					return enc.Encode(viewWithUsage(v, used))
				}
				return enc.Encode(v)
			}
			writeCustomerView(a, v)
			if usageURL != "" {
				fmt.Fprintln(a.stdout, "\nusage:")
				for _, u := range used {
					writeUsage(a.stdout, u)
				}
			}
			return nil
		},
	}
	f := show.Flags()
	f.StringVar(&at, "at", "", "an RFC 3339 instant, or a date (its 00:00 UTC); default now")
	f.StringVar(&q.Plan, "plan", "", "plan to use instead of the directory's")
	f.StringArrayVar(&attrs, "attr", nil, "attribute k=v to use instead of the directory's (repeatable)")
	enumFlag(show, &format, "format", "output format", "text", "json")
	f.StringVar(&usageURL, "usage-store", "", "also show each metered feature's buckets with their usage, read from "+strings.TrimPrefix(usageStoreHelp, "where usage is read: "))
	f.StringVar(&dataDir, "data-dir", "", "with --usage-store embedded: the sidecar's data directory")
	cmd.AddCommand(a.readsRepo(show))
	return cmd
}

// viewWithUsage is the customer view's JSON with "usage": one answer per
// metered feature.
func viewWithUsage(v evaluator.CustomerView, used []meter.UsageAnswer) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return v
	}
	if used == nil {
		used = []meter.UsageAnswer{}
	}
	if m["usage"], err = json.Marshal(used); err != nil {
		return v
	}
	return m
}

func writeCustomerView(a *app, v evaluator.CustomerView) {
	w := a.stdout
	if c := v.Customer; c != nil {
		fmt.Fprintf(w, "%s  %s <%s>  plan %s", c.ID, orDash(c.Name), orDash(c.Email), c.Plan)
		for _, k := range promotions.SortedKeys(c.Attributes) {
			fmt.Fprintf(w, "  %s=%s", k, c.Attributes[k])
		}
		if c.BillingAnchor != nil {
			fmt.Fprintf(w, "  billing anchor %s", promotions.FormatTime(*c.BillingAnchor))
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "not in the customer directory")
	}
	fmt.Fprintf(w, "at %s\n\npromotions:\n", promotions.FormatTime(v.At))
	if len(v.Promotions) == 0 {
		fmt.Fprintln(w, "  none")
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range v.Promotions {
		fmt.Fprintf(tw, "  %s\t%s\tvia %s\t%s\t%s\teligible %s\tends %s\n", p.ID, p.Feature, p.Via, p.State, p.Effective, yesNo(p.Eligible), timeOrDash(p.EndsAt))
		for _, per := range p.Periods {
			ended := ""
			if per.RevokedAt != nil && per.EndsAt != nil && per.EndsAt.Equal(*per.RevokedAt) {
				ended = " (revoked)"
			}
			fmt.Fprintf(tw, "  \t\tperiod\t%s\tuntil %s%s\n", promotions.FormatTime(per.GrantedAt), timeOrDash(per.EndsAt), ended)
		}
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\ndecisions:")
	for _, d := range v.Decisions {
		line := "no access"
		if d.HasAccess {
			line = "access"
		}
		if d.FeatureType == promotions.FeatureMetered {
			line += ", allowance " + d.Allowance.String()
			if d.Reset != "" {
				line += " " + string(d.Reset)
			}
		}
		var from []string
		for _, s := range d.Sources {
			if d.ReplacedBy(s) == "" {
				from = append(from, string(s.Kind)+" "+s.ID)
			}
		}
		if len(from) > 0 {
			line += " (" + strings.Join(from, " + ") + ")"
		}
		fmt.Fprintf(w, "  %-18s %s\n", d.Feature, line)
		if len(d.Buckets) > 1 || len(d.Replaced) > 0 {
			for i := range d.Buckets {
				fmt.Fprintf(w, "  %-18s   bucket %d: %s\n", "", d.Buckets[i].Order, bucketLine(&d.Buckets[i]))
			}
			for i := range d.Replaced {
				fmt.Fprintf(w, "  %-18s   replaced: %s, by %s\n", "", bucketLine(&d.Replaced[i]), d.Replaced[i].ReplacedBy)
			}
		}
		for _, nc := range d.NotContributing {
			fmt.Fprintf(w, "  %-18s   not %s: %s\n", "", nc.ID, nc.Why())
		}
	}
}
