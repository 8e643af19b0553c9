package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/internal/suggest"
	"github.com/promoctl/promoctl/promotions"
)

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
