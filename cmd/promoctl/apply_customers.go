package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions"
)

func init() { register((*app).customersCommand) }

// customerList is the JSON form of the Manage-access list; it has the
// shape of the sidecar's /v1/promotions/{id}/customers answer plus counts.
type customerList struct {
	Promotion string              `json:"promotion"`
	Total     int                 `json:"total"`
	Granted   int                 `json:"granted"`
	Revoked   int                 `json:"revoked"`
	Items     []promotions.Access `json:"items"`
}

func (a *app) customersCommand() *cobra.Command {
	var state, search, format string
	cmd := &cobra.Command{
		Use:   "customers ID",
		Short: "List who holds a promotion (the Manage-access list), including customers covered by grants.all",
		Long: `List a promotion's customers sorted by id: every entry of grants.customers
and, when the repo has a customer directory, every eligible customer that
grants.all covers without an entry of their own (via "all"). --state and
--search (case-insensitive, on id, name and email) filter the list.`,
		Example: `  promoctl customers sso-for-growth
  promoctl customers sso-for-growth --state revoked
  promoctl customers webinar-sso --search lindqvist --format json`,
		Args: exactArgs(arg{"ID", "the id of the promotion whose customers to list"}),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch state {
			case "", string(promotions.StateGranted), string(promotions.StateRevoked):
			default:
				return usageError("--state must be granted or revoked, not %q", state)
			}
			if format != "table" && format != "json" {
				return usageError("--format must be table or json, not %q", format)
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
			list := customerList{Promotion: p.ID, Items: []promotions.Access{}}
			for _, row := range promotions.AccessList(p, s.Directory()) {
				if (state != "" && string(row.State) != state) || !row.Matches(search) {
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
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false) // names such as "Lindqvist & Daughters" stay as written
				enc.SetIndent("", "  ")
				return enc.Encode(list)
			}
			a.writeCustomerTable(list, p, s.Model().HasDirectory)
			return nil
		},
	}
	cmd.Flags().StringVar(&state, "state", "", "only customers in this state: granted or revoked")
	cmd.Flags().StringVar(&search, "search", "", "only customers whose id, name or email contains this text (case-insensitive)")
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions([]string{"granted", "revoked"}, cobra.ShellCompDirectiveNoFileComp))
	enumFlag(cmd, &format, "format", "output format", "table", "json")
	return a.readsRepo(cmd)
}

func (a *app) writeCustomerTable(list customerList, p *promotions.Promotion, hasDirectory bool) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tEMAIL\tSTATE\tGRANTED_AT\tREVOKED_AT\tVIA")
	for _, r := range list.Items {
		revoked := "-"
		if r.RevokedAt != nil {
			revoked = promotions.FormatTime(*r.RevokedAt)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, orDash(r.Name), orDash(r.Email), r.State,
			promotions.FormatTime(r.GrantedAt), revoked, r.Via)
	}
	_ = tw.Flush()
	fmt.Fprintf(a.stdout, "%s: %d granted, %d revoked\n", count(list.Total, "customer"), list.Granted, list.Revoked)
	if p.Grants.All != nil && !hasDirectory {
		fmt.Fprintf(a.stdout, "grants.all (granted_at %s) also covers every eligible customer; without a customer directory they cannot be listed\n",
			promotions.FormatTime(p.Grants.All.GrantedAt))
	}
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
