package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/history"
	"github.com/promoctl/promoctl/promotions"
)

// historyCommand prints the audit trail of a promotion or a customer from
// the repo's git history.
func (a *app) historyCommand() *cobra.Command {
	var q history.Query
	var format string
	cmd := &cobra.Command{
		Use:   "history (--promotion P | --customer C)",
		Short: "Show who changed a promotion or a customer's grants, and when, from the git history",
		Long: `Walk the repo's git history (newest first) and print each commit that
changed the promotion or the customer — commit, author, date, subject — and
what changed: created, field changed, granted, revoked, re-granted,
renewed, deactivated, activated. --customer covers the entries naming the
customer, grants.all, and the customer's directory record. Merge commits
are not diffed: each change appears once, in the commit that made it.
--since REV leaves out REV and what came before it.`,
		Example: `  promoctl history --promotion spring-api-boost
  promoctl history --customer cus_021 --since origin/main~50 --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (q.Promotion == "") == (q.Customer == "") {
				return usageError("history needs exactly one of --promotion and --customer")
			}
			if format != "text" && format != "json" {
				return usageError("--format must be text or json, not %q", format)
			}
			q.Limits = a.limits
			commits, _, err := history.Walk(a.repo, q)
			var since *history.SinceError
			if errors.As(err, &since) {
				return usageError("--since %s: %w", since.Rev, since.Err)
			}
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if format == "json" {
				if commits == nil {
					commits = []history.Commit{}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Commits []history.Commit `json:"commits"`
				}{commits})
			}
			writeHistory(a, commits)
			return nil
		},
	}
	cmd.Flags().StringVar(&q.Promotion, "promotion", "", "the promotion id")
	cmd.Flags().StringVar(&q.Customer, "customer", "", "the customer id")
	cmd.Flags().StringVar(&q.Since, "since", "", "leave out this revision and its ancestors")
	enumFlag(cmd, &format, "format", "output format", "text", "json")
	return a.readsRepo(cmd)
}

// writeHistory prints one block per commit; a bulk change of one kind is
// summed up with the first few customers.
func writeHistory(a *app, commits []history.Commit) {
	if len(commits) == 0 {
		fmt.Fprintln(a.stdout, "no change found in the git history")
		return
	}
	for _, c := range commits {
		fmt.Fprintf(a.stdout, "%s  %s  %s <%s>\n    %s\n", c.Hash[:12], promotions.FormatTime(c.Date), c.Author, c.Email, c.Subject)
		type group struct {
			key       string
			customers []string
		}
		var groups []*group
		index := map[string]*group{}
		for _, ch := range c.Changes {
			what := string(ch.Change)
			if ch.Field != "" {
				what += " " + ch.Field
			}
			key := what
			if ch.Promotion != "" {
				key = ch.Promotion + ": " + what
			}
			g := index[key]
			if g == nil {
				g = &group{key: key}
				index[key] = g
				groups = append(groups, g)
			}
			if ch.Customer != "" {
				g.customers = append(g.customers, ch.Customer)
			}
		}
		for _, g := range groups {
			switch n := len(g.customers); {
			case n == 0:
				fmt.Fprintf(a.stdout, "    - %s\n", g.key)
			case n <= 3:
				fmt.Fprintf(a.stdout, "    - %s %s\n", g.key, strings.Join(g.customers, ", "))
			default:
				fmt.Fprintf(a.stdout, "    - %s %d customers (%s, …)\n", g.key, n, strings.Join(g.customers[:3], ", "))
			}
		}
	}
}
