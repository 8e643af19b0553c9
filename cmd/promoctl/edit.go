package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

// The apply-flow commands edit one file of the repo. Each one loads and
// validates the repo, plans its edits, validates the repo as it would be
// after them (in memory), and only then writes — atomically — or, with
// --dry-run, prints the diff instead.

// defaultLockTimeout is how long an editing command waits for another one
// working on the same repo (a bulk grant of 100k customers takes seconds).
const defaultLockTimeout = 30 * time.Second

// lockFlag adds --lock-timeout to an editing command.
func (a *app) lockFlag(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&a.lockTimeout, "lock-timeout", defaultLockTimeout,
		"how long to wait for another promoctl command editing the same repo")
}

// openRepoForEdit locks (unless dryRun) and opens the repo for an apply-flow
// command, with its refusals as exit codes: a repo locked by another
// command or invalid before any change is refused (exit 1, the validation
// errors on stderr).
func (a *app) openRepoForEdit(dryRun bool) (*applyflow.Disk, error) {
	if err := a.checkRepo(); err != nil {
		return nil, err
	}
	d, err := applyflow.OpenDisk(a.repo, compiler.NewValidator(a.limits), a.lockTimeout, dryRun)
	var invalid *applyflow.InvalidError
	switch {
	case err == nil:
		return d, nil
	case errors.Is(err, fsutil.ErrRepoLocked):
		return nil, &exitError{code: exitValidation, err: fmt.Errorf("refused, nothing written: %w, or raise --lock-timeout", err)}
	case errors.As(err, &invalid):
		return nil, a.refuseInvalid(invalid)
	default:
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("load %s: %w", a.repo, err)}
	}
}

// refuseInvalid prints the validation errors of a repo and refuses.
func (a *app) refuseInvalid(e *applyflow.InvalidError) error {
	_ = report.Report{Diagnostics: withLimitHints(e.Diagnostics), Source: e.Source}.WriteText(a.stderr)
	if e.Before {
		return &exitError{code: exitValidation, err: e}
	}
	return &exitError{code: exitValidation, err: fmt.Errorf("%w; nothing written", e)}
}

// promotion returns a promotion of the opened repo, or a usage error.
func (a *app) promotion(s *applyflow.Disk, id string) (*promotions.Promotion, []byte, error) {
	p, src, err := s.Promotion(id)
	var unknown *applyflow.UnknownPromotionError
	switch {
	case errors.As(err, &unknown):
		return nil, nil, usageError("no promotion %q in %s%s", id, a.repoName(), didYouMean(id, unknown.Known))
	case err != nil:
		return nil, nil, &exitError{code: exitUsage, err: err}
	}
	return p, src, nil
}

// write writes a checked change, or prints its diff on a dry run.
func (a *app) write(s *applyflow.Disk, c *applyflow.Change, dryRun bool) error {
	if dryRun {
		oldName := "a/" + c.File
		if c.Created {
			oldName = "/dev/null"
		}
		_, err := io.WriteString(a.stdout, unifiedDiff(oldName, "b/"+c.File, c.Old, c.Edits))
		return err
	}
	if err := s.Write(c); err != nil {
		var stale *applyflow.StaleError
		if errors.As(err, &stale) {
			return &exitError{code: exitValidation, err: fmt.Errorf("refused, nothing written: %s", stale.Reason)}
		}
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// checked maps the error of a check to an exit code.
func (a *app) checked(err error) error {
	var invalid *applyflow.InvalidError
	switch {
	case errors.As(err, &invalid):
		return a.refuseInvalid(invalid)
	case err != nil:
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// selection is how a command names its customers.
type selection struct {
	customers []string
	file      string
	search    string
	all       bool
	allFlag   string // the flag that sets all, for messages
}

func (sel *selection) flags(cmd *cobra.Command, allFlag, allHelp string) {
	f := cmd.Flags()
	f.StringSliceVar(&sel.customers, "customers", nil, "customer ids, comma-separated (repeatable)")
	f.StringVar(&sel.file, "customers-file", "", "file with one customer id per line (- for stdin; # comments and blank lines ignored)")
	f.StringVar(&sel.search, "search", "", "customers whose id, name or email contains this text (case-insensitive)")
	f.BoolVar(&sel.all, allFlag, false, allHelp)
	sel.allFlag = allFlag
}

// check makes sure exactly one way of selecting customers was used.
func (sel *selection) check() error {
	n := 0
	for _, used := range []bool{len(sel.customers) > 0, sel.file != "", sel.search != "", sel.all} {
		if used {
			n++
		}
	}
	if n != 1 {
		return usageError("name the customers with exactly one of --customers, --customers-file, --search or --%s", sel.allFlag)
	}
	return nil
}

// ids resolves --customers and --customers-file; search is resolved by
// each command against its own list.
func (a *app) selectedIDs(sel *selection) ([]string, error) {
	if len(sel.customers) > 0 {
		var ids []string
		for _, id := range sel.customers {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		return ids, nil
	}
	var r io.Reader = a.stdin
	if sel.file != "-" {
		f, err := os.Open(sel.file)
		if err != nil {
			return nil, usageError("--customers-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	var ids []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for first := true; sc.Scan(); first = false {
		// Files saved on Windows: a BOM before the first id and CRLF line
		// ends (TrimSpace drops the CR) are not part of any id.
		text := sc.Text()
		if first {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		line := strings.TrimSpace(text)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		ids = append(ids, line)
	}
	if err := sc.Err(); err != nil {
		return nil, usageError("--customers-file %s: %w", sel.file, err)
	}
	return ids, nil
}

// stateChange runs one of grant, revoke and regrant.
type stateChange struct {
	sel    selection
	at     string
	dryRun bool
	run    func(*applyflow.Session, string, applyflow.CustomerOptions) (*applyflow.Result, error)
}

func (a *app) runStateChange(sc *stateChange, id string) error {
	if err := sc.sel.check(); err != nil {
		return err
	}
	at, err := atFlag(sc.at)
	if err != nil {
		return err
	}
	opts := applyflow.CustomerOptions{At: at, Customers: applyflow.Selection{Search: sc.sel.search, All: sc.sel.all}}
	if !sc.sel.all && sc.sel.search == "" {
		if opts.Customers.IDs, err = a.selectedIDs(&sc.sel); err != nil {
			return err
		}
	}
	s, err := a.openRepoForEdit(sc.dryRun)
	if err != nil {
		return err
	}
	defer s.Close()
	res, err := sc.run(s.Session, id, opts)
	return a.finish(s, res, err, sc.dryRun)
}

// finish renders what a verb did: its refusals (nothing written), its
// validation errors, or its diff (dry run) or write, then the one-line
// summary.
func (a *app) finish(s *applyflow.Disk, res *applyflow.Result, err error, dryRun bool) error {
	var (
		unknown *applyflow.UnknownPromotionError
		noMatch *applyflow.NoMatchError
	)
	switch {
	case errors.As(err, &unknown):
		return usageError("no promotion %q in %s%s", unknown.ID, a.repoName(), didYouMean(unknown.ID, unknown.Known))
	case errors.Is(err, applyflow.ErrNoDirectory):
		return usageError("--search needs a customer directory (a Customers file); this repo has none: use --customers")
	case errors.As(err, &noMatch):
		return &exitError{code: exitValidation, err: fmt.Errorf("--search %q matches no customer", noMatch.Query)}
	case res == nil:
		return a.checked(err)
	}
	id := res.Promotion.ID
	if res.Refused() {
		for _, r := range res.Refusals {
			if r.ID == "" {
				fmt.Fprintf(a.stderr, "refused: %s\n", r.Reason)
			} else {
				fmt.Fprintf(a.stderr, "refused %s\n", r)
			}
		}
		if res.OnlyCustomersRefused() {
			return &exitError{code: exitValidation, err: fmt.Errorf("%s %s: refused %d, nothing written (without them: %s)", res.Verb, id, res.RefusedCustomers(), res.Summary)}
		}
		return &exitError{code: exitValidation, err: fmt.Errorf("%s %s refused, nothing written", res.Verb, id)}
	}
	if err := a.checked(err); err != nil {
		return err
	}
	if res.Change == nil {
		fmt.Fprintf(a.stdout, "%s (no change)\n", res.Line())
		return nil
	}
	if err := a.write(s, res.Change, dryRun); err != nil {
		return err
	}
	summary := res.Line()
	if dryRun {
		summary += " (dry run: nothing written)"
	}
	fmt.Fprintln(a.stdout, summary)
	return nil
}

// stateChangeCommand completes cmd as one of grant, revoke and regrant: its
// one argument names the promotion, --allFlag selects every customer.
func (a *app) stateChangeCommand(sc *stateChange, cmd *cobra.Command, doing, allFlag, allHelp string) *cobra.Command {
	cmd.Args = exactArgs(arg{"ID", "the id of the promotion to " + doing})
	cmd.RunE = func(cmd *cobra.Command, args []string) error { return a.runStateChange(sc, args[0]) }
	sc.sel.flags(cmd, allFlag, allHelp)
	stateChangeFlags(cmd, sc)
	a.lockFlag(cmd)
	return a.readsRepo(cmd)
}

func stateChangeFlags(cmd *cobra.Command, sc *stateChange) {
	cmd.Flags().StringVar(&sc.at, "at", "", "when: an RFC 3339 instant, or a date (its 00:00 UTC); default now")
	cmd.Flags().BoolVar(&sc.dryRun, "dry-run", false, "print the diff instead of writing")
}

// statusCommand builds deactivate or activate.
func (a *app) statusCommand(verb, short, long, example string) *cobra.Command {
	var at string
	var dryRun, restore bool
	cmd := &cobra.Command{
		Use:     verb + " ID",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    exactArgs(arg{"ID", "the id of the promotion to " + verb}),
		RunE: func(cmd *cobra.Command, args []string) error {
			when, err := atFlag(at)
			if err != nil {
				return err
			}
			s, err := a.openRepoForEdit(dryRun)
			if err != nil {
				return err
			}
			defer s.Close()
			var res *applyflow.Result
			if verb == "deactivate" {
				res, err = s.Deactivate(args[0], applyflow.DeactivateOptions{At: when})
			} else {
				res, err = s.Activate(args[0], applyflow.ActivateOptions{At: when, Restore: restore})
			}
			if err := a.finish(s, res, err, dryRun); err != nil {
				return err
			}
			if verb == "activate" && !restore {
				a.restoreHint(res.Promotion, dryRun)
			}
			return nil
		},
	}
	switch verb {
	case "deactivate":
		cmd.Flags().StringVar(&at, "at", "", "when: an RFC 3339 instant, or a date (its 00:00 UTC); default now")
	case "activate":
		cmd.Flags().BoolVar(&restore, "restore", false, "also re-grant what the deactivation revoked (entries, and grants.all, revoked at its deactivated_at)")
		cmd.Flags().StringVar(&at, "at", "", "with --restore, when the re-grants start: an RFC 3339 instant, or a date (its 00:00 UTC); default now")
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the diff instead of writing")
	a.lockFlag(cmd)
	return a.readsRepo(cmd)
}
