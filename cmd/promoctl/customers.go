package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions"
)

// customerList is the JSON form of the Manage-access list; its items have
// the shape of the sidecar's /v1/promotions/{id}/customers answer.
type customerList struct {
	Promotion string              `json:"promotion"`
	At        time.Time           `json:"at"`
	Total     int                 `json:"total"`
	Granted   int                 `json:"granted"`
	Revoked   int                 `json:"revoked"`
	Items     []promotions.Access `json:"items"`
}

func (a *app) customersCommand() *cobra.Command {
	var state, effective, search, format, atValue string
	cmd := &cobra.Command{
		Use:   "customers ID",
		Short: "List who holds a promotion (the Manage-access list), including customers covered by grants.all",
		Long: `List a promotion's customers sorted by id: every entry of grants.customers
and, when the repo has a customer directory, every eligible customer that
grants.all covers without an entry of their own (via "all"). Each row shows
the stored state and the effective state at --at (default now): active,
scheduled, expired or revoked, with the end of the current (or next)
period and whether the customer is eligible by the current directory.
--state granted lists active and scheduled grants, --state revoked expired
and revoked ones; --effective picks one effective state; --search
(case-insensitive, on id, name and email) filters too.`,
		Example: `  promoctl customers spring-api-boost --state granted
  promoctl customers spring-api-boost --effective expired --at 2026-07-01T00:00:00Z
  promoctl customers spring-api-boost --format csv > access.csv`,
		Args: exactArgs(arg{"ID", "the id of the promotion whose customers to list"}),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch state {
			case "", string(promotions.StateGranted), string(promotions.StateRevoked):
			default:
				return usageError("--state must be granted or revoked, not %q", state)
			}
			switch promotions.EffectiveState(effective) {
			case "", promotions.EffectiveActive, promotions.EffectiveScheduled, promotions.EffectiveExpired, promotions.EffectiveRevoked:
			default:
				return usageError("--effective must be active, scheduled, expired or revoked, not %q", effective)
			}
			if format != "table" && format != "json" && format != "csv" {
				return usageError("--format must be table, json or csv, not %q", format)
			}
			at, err := atFlag(atValue)
			if err != nil {
				return err
			}
			// Reading takes no lock: the list is a view, not an edit.
			s, err := a.openRepoForEdit(true)
			if err != nil {
				return err
			}
			p, _, err := a.promotion(s, args[0])
			if err != nil {
				return err
			}
			list := customerList{Promotion: p.ID, At: at, Items: []promotions.Access{}}
			for _, row := range promotions.AccessList(p, s.Directory(), at) {
				if !row.Listed(promotions.GrantState(state), promotions.EffectiveState(effective)) || !row.Matches(search) {
					continue
				}
				list.Items = append(list.Items, row)
				if row.State == promotions.StateGranted {
					list.Granted++
				} else {
					list.Revoked++
				}
			}
			list.Total = len(list.Items)
			switch format {
			case "json":
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false) // names such as "Lindqvist & Daughters" stay as written
				return enc.Encode(list)
			case "csv":
				return a.writeCustomerCSV(list)
			}
			a.writeCustomerTable(list, p, s.Model().HasDirectory)
			return nil
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only granted (active or scheduled) or revoked (revoked or expired) customers")
	cmd.Flags().StringVar(&effective, "effective", "", "only customers in this effective state: active, scheduled, expired or revoked")
	cmd.Flags().StringVar(&atValue, "at", "", "RFC 3339 instant the effective state is computed at (default now)")
	cmd.Flags().StringVar(&search, "search", "", "only customers whose id, name or email contains this text (case-insensitive)")
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"granted", "revoked"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("effective", cobra.FixedCompletions([]string{"active", "scheduled", "expired", "revoked"}, cobra.ShellCompDirectiveNoFileComp))
	enumFlag(cmd, &format, "format", "output format", "table", "json", "csv")
	return a.readsRepo(cmd)
}

func (a *app) writeCustomerTable(list customerList, p *promotions.Promotion, hasDirectory bool) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tSTATE\tEFFECTIVE\tELIGIBLE\tGRANTED_AT\tENDS_AT\tREVOKED_AT\tVIA")
	for _, r := range list.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(r.Name), orDash(r.Email), r.State, r.Effective,
			yesNo(r.Eligible), promotions.FormatTime(r.GrantedAt), timeOrDash(r.EndsAt), timeOrDash(r.RevokedAt), r.Via)
	}
	_ = tw.Flush()
	fmt.Fprintf(a.stdout, "%s at %s: %d granted, %d revoked\n", count(list.Total, "customer"), promotions.FormatTime(list.At), list.Granted, list.Revoked)
	if p.Grants.All != nil && !hasDirectory {
		fmt.Fprintf(a.stdout, "grants.all (granted_at %s) also covers every eligible customer; without a customer directory they cannot be listed\n",
			promotions.FormatTime(p.Grants.All.GrantedAt))
	}
}

// writeCustomerCSV writes the list for spreadsheets: the JSON columns but
// periods, with a header row; absent times are empty cells.
func (a *app) writeCustomerCSV(list customerList) error {
	w := csv.NewWriter(a.stdout)
	_ = w.Write([]string{"id", "name", "email", "state", "effective", "eligible", "via", "granted_at", "ends_at", "revoked_at"})
	for _, r := range list.Items {
		_ = w.Write([]string{r.ID, r.Name, r.Email, string(r.State), string(r.Effective), fmt.Sprint(r.Eligible), string(r.Via),
			promotions.FormatTime(r.GrantedAt), timeOrEmpty(r.EndsAt), timeOrEmpty(r.RevokedAt)})
	}
	w.Flush()
	return w.Error()
}

func timeOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return promotions.FormatTime(*t)
}

func timeOrEmpty(t *time.Time) string {
	if t == nil {
		return ""
	}
	return promotions.FormatTime(*t)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
