package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/history"
	"github.com/promoctl/promoctl/promotions"
)

// historyCommand prints the audit trail of a promotion or a customer from
// the repo's git history.
func (a *app) historyCommand() *cobra.Command {
	var q history.Query
	var format string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "history (--promotion P | --customer C)",
		Short: "Show who changed a promotion or a customer's grants, and when, from the git history",
		Long: `Walk the repo's git history (newest first) and print each commit that
changed the promotion or the customer — commit, author, date, subject — and
what changed: created, field changed, granted, revoked, re-granted,
renewed, deactivated, activated. --customer covers the entries naming the
customer, grants.all, and the customer's directory record. A merge commit
shows what was changed in the merge itself (say, a grant added while
resolving a conflict); a change brought in from a branch appears once, in
the commit that made it. --since REV leaves out REV and what came before it.

The walk stops after --max-commits commits or --timeout, and then says where
it stopped and how to continue (--skip N).`,
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
			if q.Skip < 0 {
				return usageError("--skip must not be negative")
			}
			if timeout <= 0 {
				return usageError("--timeout must be positive, not %s", timeout)
			}
			q.Limits = a.limits
			q.Deadline = time.Now().Add(timeout)
			commits, st, err := history.WalkContext(cmd.Context(), a.repo, q)
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
				out := struct {
					Commits []history.Commit `json:"commits"`
					Stopped *stoppedJSON     `json:"stopped,omitempty"`
				}{Commits: commits}
				if st.Stopped != history.Complete {
					out.Stopped = &stoppedJSON{Reason: string(st.Stopped), Walked: st.Commits, Last: st.Last, Skip: st.Next}
				}
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			writeHistory(a, commits, st.Stopped != history.Complete)
			if st.Stopped != history.Complete {
				fmt.Fprintf(a.stdout, "stopped (%s) after %d commits, at %s %s; older changes: %s\n", stopReason(st.Stopped, q, timeout),
					st.Commits, shortHash(st.Last), promotions.FormatTime(st.LastDate), continueCommand(q, st.Next))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&q.Promotion, "promotion", "", "the promotion id")
	cmd.Flags().StringVar(&q.Customer, "customer", "", "the customer id")
	cmd.Flags().StringVar(&q.Since, "since", "", "leave out this revision and its ancestors")
	cmd.Flags().IntVar(&q.MaxCommits, "max-commits", history.DefaultMaxCommits, "stop after walking this many commits (negative: no bound)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "stop walking after this long")
	cmd.Flags().IntVar(&q.Skip, "skip", 0, "pass over this many commits first (continues a walk that stopped)")
	enumFlag(cmd, &format, "format", "output format", "text", "json")
	return a.readsRepo(cmd)
}

// stoppedJSON says where a walk stopped and how to continue it.
type stoppedJSON struct {
	Reason string `json:"reason"`
	Walked int    `json:"commits_walked"`
	Last   string `json:"last_commit"`
	Skip   int    `json:"continue_with_skip"`
}

func stopReason(s history.Stop, q history.Query, timeout time.Duration) string {
	switch s {
	case history.CommitBound:
		return fmt.Sprintf("--max-commits %d", q.MaxCommits)
	case history.DeadlineReach:
		return fmt.Sprintf("--timeout %s", timeout)
	default:
		return string(s)
	}
}

func shortHash(h string) string { return h[:min(len(h), 12)] }

// continueCommand is the command line that continues a walk.
func continueCommand(q history.Query, skip int) string {
	args := []string{"promoctl", "history"}
	if q.Promotion != "" {
		args = append(args, "--promotion", q.Promotion)
	} else {
		args = append(args, "--customer", q.Customer)
	}
	if q.Since != "" {
		args = append(args, "--since", q.Since)
	}
	return strings.Join(append(args, "--skip", strconv.Itoa(skip)), " ")
}

// writeHistory prints one block per commit; a bulk change of one kind is
// summed up with the first few customers. A merge commit is marked as
// such.
func writeHistory(a *app, commits []history.Commit, stopped bool) {
	if len(commits) == 0 {
		if stopped {
			fmt.Fprintln(a.stdout, "no change found in the commits walked")
		} else {
			fmt.Fprintln(a.stdout, "no change found in the git history")
		}
		return
	}
	for _, c := range commits {
		merge := ""
		if c.Merge {
			merge = "  (changes made in the merge)"
		}
		fmt.Fprintf(a.stdout, "%s  %s  %s <%s>%s\n    %s\n", c.Hash[:12], promotions.FormatTime(c.Date), c.Author, c.Email, merge, c.Subject)
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
