package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/internal/suggest"
	"github.com/promoctl/promoctl/promotions"
)

func init() {
	register((*app).customerCommand)
	register((*app).promotionsCommand)
}

// customerCommand is the support view: "what does customer C have?"
func (a *app) customerCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "customer",
		Short:   "Look one customer up (customer show)",
		Example: "  promoctl customer show cus_021 --at 2026-05-12",
		Args:    noArgs,
	}
	var (
		q          evaluator.Query
		at, format string
		attrs      []string
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
  promoctl customer show cus_021 --format json`,
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
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			}
			writeCustomerView(a, v)
			return nil
		},
	}
	f := show.Flags()
	f.StringVar(&at, "at", "", "an RFC 3339 instant, or a date (its 00:00 UTC); default now")
	f.StringVar(&q.Plan, "plan", "", "plan to use instead of the directory's")
	f.StringArrayVar(&attrs, "attr", nil, "attribute k=v to use instead of the directory's (repeatable)")
	enumFlag(show, &format, "format", "output format", "text", "json")
	cmd.AddCommand(a.readsRepo(show))
	return cmd
}

func writeCustomerView(a *app, v evaluator.CustomerView) {
	w := a.stdout
	if c := v.Customer; c != nil {
		fmt.Fprintf(w, "%s  %s <%s>  plan %s", c.ID, orDash(c.Name), orDash(c.Email), c.Plan)
		for _, k := range promotions.SortedKeys(c.Attributes) {
			fmt.Fprintf(w, "  %s=%s", k, c.Attributes[k])
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
		for _, nc := range d.NotContributing {
			fmt.Fprintf(w, "  %-18s   not %s: %s\n", "", nc.ID, nc.Why())
		}
	}
}

// promotionList is the JSON form of `promoctl promotions`.
type promotionList struct {
	At    time.Time            `json:"at"`
	Items []promotions.Summary `json:"items"`
}

// promotionsCommand lists every promotion with counts by effective state.
func (a *app) promotionsCommand() *cobra.Command {
	var status, feature, at, format string
	cmd := &cobra.Command{
		Use:   "promotions",
		Short: "List every promotion with its customers counted by effective state",
		Long: `List every promotion: id, name, feature, type, mode, status, whether it is
applied, its window, its entries counted by effective state at --at
(active, scheduled, expired, revoked), grants.all's effective state
(counted once, as "all"), and how many periods end within 14 days.`,
		Example: `  promoctl promotions
  promoctl promotions --feature api_calls --at 2026-05-01
  promoctl promotions --status active --format csv > promotions.csv`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch promotions.Status(status) {
			case "", promotions.StatusActive, promotions.StatusDeactivated:
			default:
				return usageError("--status must be active or deactivated, not %q", status)
			}
			if format != "table" && format != "json" && format != "csv" {
				return usageError("--format must be table, json or csv, not %q", format)
			}
			t, err := atFlag(at)
			if err != nil {
				return err
			}
			res, err := a.load(a.options())
			if err != nil {
				return err
			}
			if res.Model == nil {
				return &exitError{code: exitValidation, err: fmt.Errorf("the repo is invalid: run promoctl validate")}
			}
			m := res.Model
			if feature != "" {
				if _, ok := m.Features[feature]; !ok {
					return usageError("--feature: feature %q is not defined%s", feature, suggest.DidYouMean(suggest.Closest(feature, promotions.SortedKeys(m.Features))))
				}
			}
			list := promotionList{At: t, Items: []promotions.Summary{}}
			for _, id := range m.PromotionIDs() {
				p := m.Promotions[id]
				if (status != "" && string(p.Status) != status) || (feature != "" && p.Feature != feature) {
					continue
				}
				list.Items = append(list.Items, p.Summarize(t))
			}
			sort.Slice(list.Items, func(i, j int) bool { return list.Items[i].ID < list.Items[j].ID })
			switch format {
			case "json":
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			case "csv":
				return writePromotionsCSV(a, list)
			}
			writePromotionsTable(a, list)
			return nil
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "only promotions in this status: active or deactivated")
	cmd.Flags().StringVar(&feature, "feature", "", "only promotions for this feature")
	cmd.Flags().StringVar(&at, "at", "", "count effective states at: an RFC 3339 instant, or a date; default now")
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, json or csv")
	return a.readsRepo(cmd)
}

func promotionRow(s promotions.Summary) []string {
	all := "-"
	if s.All != nil {
		all = string(s.All.State)
	}
	mode := string(s.Mode)
	if mode == "" {
		mode = "-"
	}
	return []string{s.ID, s.Name, s.Feature, string(s.FeatureType), mode, string(s.Status), yesNo(s.IsApplied),
		timeOrDash(s.Window.Start), timeOrDash(s.Window.End),
		fmt.Sprint(s.Counts[promotions.EffectiveActive]), fmt.Sprint(s.Counts[promotions.EffectiveScheduled]),
		fmt.Sprint(s.Counts[promotions.EffectiveExpired]), fmt.Sprint(s.Counts[promotions.EffectiveRevoked]), all, fmt.Sprint(s.EndingSoon)}
}

var promotionColumns = []string{"ID", "NAME", "FEATURE", "TYPE", "MODE", "STATUS", "APPLIED", "WINDOW_START", "WINDOW_END",
	"ACTIVE", "SCHEDULED", "EXPIRED", "REVOKED", "ALL", "ENDING_SOON"}

func writePromotionsTable(a *app, list promotionList) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(promotionColumns, "\t"))
	for _, s := range list.Items {
		fmt.Fprintln(tw, strings.Join(promotionRow(s), "\t"))
	}
	_ = tw.Flush()
	fmt.Fprintf(a.stdout, "%s at %s\n", count(len(list.Items), "promotion"), promotions.FormatTime(list.At))
}

func writePromotionsCSV(a *app, list promotionList) error {
	w := csv.NewWriter(a.stdout)
	header := make([]string, len(promotionColumns))
	for i, c := range promotionColumns {
		header[i] = strings.ToLower(c)
	}
	_ = w.Write(header)
	for _, s := range list.Items {
		row := promotionRow(s)
		for i, v := range row {
			if v == "-" {
				row[i] = ""
			}
		}
		_ = w.Write(row)
	}
	w.Flush()
	return w.Error()
}
