package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/internal/fsutil"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// The apply-flow commands edit one file of the repo. Each one loads and
// validates the repo, plans its edits, validates the repo as it would be
// after them (in memory), and only then writes — atomically — or, with
// --dry-run, prints the diff instead.

func init() {
	register((*app).grantCommand)
	register((*app).revokeCommand)
	register((*app).regrantCommand)
	register((*app).deactivateCommand)
	register((*app).activateCommand)
}

// editSession is one apply-flow command's view of the repo.
type editSession struct {
	a      *app
	cache  *compiler.Cache
	model  *promotions.Model
	dryRun bool
	lock   *fsutil.RepoLock // held from load to write; nil on a dry run
}

// defaultLockTimeout is how long an editing command waits for another one
// working on the same repo (a bulk grant of 100k customers takes seconds).
const defaultLockTimeout = 30 * time.Second

// lockFlag adds --lock-timeout to an editing command.
func (a *app) lockFlag(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&a.lockTimeout, "lock-timeout", defaultLockTimeout,
		"how long to wait for another promoctl command editing the same repo")
}

// openRepoForEdit takes the repo's lock, then opens it: the lock is held
// until close, so the content the edit is planned on is still the content
// on disk when it is written — concurrent commands queue instead of
// overwriting each other. A dry run writes nothing and takes no lock.
func (a *app) openRepoForEdit(dryRun bool) (*editSession, error) {
	var lock *fsutil.RepoLock
	if !dryRun {
		if err := a.checkRepo(); err != nil {
			return nil, err
		}
		var err error
		if lock, err = fsutil.LockRepo(a.repo, a.lockTimeout); err != nil {
			code := exitUsage
			if errors.Is(err, fsutil.ErrRepoLocked) {
				code = exitValidation
			}
			return nil, &exitError{code: code, err: fmt.Errorf("refused, nothing written: %w", err)}
		}
	}
	s, err := a.openRepo(dryRun)
	if err != nil {
		_ = lock.Unlock()
		return nil, err
	}
	s.lock = lock
	return s, nil
}

// close releases the lock.
func (s *editSession) close() { _ = s.lock.Unlock() }

// openRepo loads the repo and refuses to edit one that is already invalid:
// the result could not be told apart from a change that breaks it.
func (a *app) openRepo(dryRun bool) (*editSession, error) {
	cache := compiler.NewCache()
	res, err := a.load(compiler.Options{Limits: a.limits, Cache: cache})
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		_ = report.Report{Diagnostics: res.Diagnostics.Errors(), Source: os.DirFS(a.repo)}.WriteText(a.stderr)
		return nil, &exitError{code: exitValidation, err: fmt.Errorf("the repo is invalid before any change; fix it first (promoctl validate)")}
	}
	return &editSession{a: a, cache: cache, model: res.Model, dryRun: dryRun}, nil
}

// directory returns the customer directory, nil when the repo has none.
func (s *editSession) directory() map[string]*promotions.Customer {
	if !s.model.HasDirectory {
		return nil
	}
	return s.model.Customers
}

func (s *editSession) promotion(id string) (*promotions.Promotion, []byte, error) {
	p, ok := s.model.Promotions[id]
	if !ok {
		return nil, nil, usageError("no promotion %q in %s", id, s.a.repo)
	}
	src, err := os.ReadFile(filepath.Join(s.a.repo, filepath.FromSlash(p.File)))
	if err != nil {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("read %s: %w", p.File, err)}
	}
	return p, src, nil
}

// commit validates the repo with file replaced by content and writes it,
// or prints the diff on a dry run. A change that leaves the repo invalid is
// refused with the validation's diagnostics and nothing is written.
func (s *editSession) commit(file string, old, content []byte, edits []yamldoc.Edit, created bool) error {
	overlay := compiler.Overlay(os.DirFS(s.a.repo), map[string][]byte{file: content})
	res, err := compiler.Load(overlay, compiler.Options{Limits: s.a.limits, Cache: s.cache})
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("validate the change: %w", err)}
	}
	if !res.OK() {
		_ = report.Report{Diagnostics: res.Diagnostics.Errors(), Source: overlay}.WriteText(s.a.stderr)
		return &exitError{code: exitValidation, err: fmt.Errorf("refused: the change would make the repo invalid; nothing written")}
	}
	if s.dryRun {
		oldName := "a/" + file
		if created {
			oldName = "/dev/null"
		}
		_, err := io.WriteString(s.a.stdout, unifiedDiff(oldName, "b/"+file, old, edits))
		return err
	}
	path := filepath.Join(s.a.repo, filepath.FromSlash(file))
	if created {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // #nosec G301 -- a repo directory the sidecar (often another user) must read
			return &exitError{code: exitUsage, err: fmt.Errorf("create %s: %w", filepath.Dir(path), err)}
		}
	}
	if err := fsutil.ReplaceFileAtomic(path, old, content, 0o644); err != nil {
		if errors.Is(err, fsutil.ErrChangedOnDisk) {
			return &exitError{code: exitValidation, err: fmt.Errorf("refused, nothing written: %s changed on disk while this command was editing it (by an editor or a tool that does not take the repo lock); run it again", file)}
		}
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
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
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

// atFlag is --at, truncated to whole seconds when it defaults to now so
// that the file gets readable timestamps.
func atFlag(value string) (time.Time, error) {
	if value == "" || value == "now" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	return parseTimeFlag("at", value)
}

// stateChange runs one of grant, revoke and regrant.
type stateChange struct {
	verb   string
	sel    selection
	at     string
	dryRun bool
	// searchDirectory: --search looks through the customer directory
	// (grant) instead of the promotion's access list (revoke, regrant).
	searchDirectory bool
	byIDs           func(*applyflow.Apply, []string) error
	all             func(*applyflow.Apply) error
}

func (a *app) runStateChange(sc *stateChange, id string) error {
	if err := sc.sel.check(); err != nil {
		return err
	}
	at, err := atFlag(sc.at)
	if err != nil {
		return err
	}
	var ids []string
	if !sc.sel.all && sc.sel.search == "" {
		if ids, err = a.selectedIDs(&sc.sel); err != nil {
			return err
		}
	}
	s, err := a.openRepoForEdit(sc.dryRun)
	if err != nil {
		return err
	}
	defer s.close()
	p, src, err := s.promotion(id)
	if err != nil {
		return err
	}
	if sc.sel.search != "" {
		if ids, err = s.search(p, sc.sel.search, sc.searchDirectory); err != nil {
			return err
		}
	}
	plan, err := applyflow.NewApply(p, src, s.directory(), at)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if sc.sel.all {
		err = sc.all(plan)
	} else {
		err = sc.byIDs(plan, ids)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return s.finish(sc.verb, id, p.File, src, plan)
}

// search resolves --search: over the customer directory, or over the
// promotion's access list (which includes customers covered by
// grants.all).
func (s *editSession) search(p *promotions.Promotion, query string, directory bool) ([]string, error) {
	var ids []string
	if directory {
		if !s.model.HasDirectory {
			return nil, usageError("--search needs a customer directory (a Customers file); this repo has none: use --customers")
		}
		for _, id := range s.model.CustomerIDs() {
			if s.model.Customers[id].Matches(query) {
				ids = append(ids, id)
			}
		}
	} else {
		for _, row := range promotions.AccessList(p, s.directory()) {
			if row.Matches(query) {
				ids = append(ids, row.ID)
			}
		}
	}
	if len(ids) == 0 {
		return nil, &exitError{code: exitValidation, err: fmt.Errorf("--search %q matches no customer", query)}
	}
	return ids, nil
}

// finish refuses, or validates and writes the plan's result, and prints
// the one-line summary.
func (s *editSession) finish(verb, id, file string, src []byte, plan *applyflow.Apply) error {
	if refused := plan.Refused(); len(refused) > 0 {
		for _, r := range refused {
			if r.ID == "" {
				fmt.Fprintf(s.a.stderr, "refused: %s\n", r.Reason)
			} else {
				fmt.Fprintf(s.a.stderr, "refused %s: %s\n", r.ID, r.Reason)
			}
		}
		if n := plan.RefusedCustomers(); n > 0 && n == len(refused) {
			return &exitError{code: exitValidation, err: fmt.Errorf("%s %s: refused %d, nothing written (without them: %s)", verb, id, n, plan.Summary())}
		}
		return &exitError{code: exitValidation, err: fmt.Errorf("%s %s refused, nothing written", verb, id)}
	}
	summary := fmt.Sprintf("%s %s: %s", verb, id, plan.Summary())
	if !plan.Changed() {
		fmt.Fprintf(s.a.stdout, "%s (no change)\n", summary)
		return nil
	}
	// The result is parsed once, by the full validation in commit.
	content, edits, err := plan.Unchecked()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	if err := s.commit(file, src, content, edits, false); err != nil {
		return err
	}
	if s.dryRun {
		summary += " (dry run: nothing written)"
	}
	fmt.Fprintln(s.a.stdout, summary)
	return nil
}

func (a *app) grantCommand() *cobra.Command {
	sc := &stateChange{verb: "grant", searchDirectory: true,
		byIDs: (*applyflow.Apply).Grant, all: (*applyflow.Apply).GrantAll}
	cmd := &cobra.Command{
		Use:   "grant ID (--customers a,b | --customers-file F | --search Q | --all)",
		Short: "Grant a promotion to customers (new ones, and re-grant revoked ones)",
		Long: `Grant a promotion. New customers get an entry in state granted; revoked
customers are re-granted (new granted_at, revoked_at removed); customers who
already hold it are left alone. --all grants it through grants.all to every
eligible customer, now and later. Sets is_applied: true.

Nothing is written when any customer is refused (unknown to the directory,
not eligible), when --at is outside the promotion window, or when the
promotion is deactivated; every refused customer is listed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runStateChange(sc, args[0]) },
	}
	sc.sel.flags(cmd, "all", "grant to every eligible customer through grants.all")
	stateChangeFlags(cmd, sc)
	a.lockFlag(cmd)
	return cmd
}

func (a *app) revokeCommand() *cobra.Command {
	sc := &stateChange{verb: "revoke",
		byIDs: (*applyflow.Apply).Revoke, all: (*applyflow.Apply).RevokeAllGranted}
	cmd := &cobra.Command{
		Use:   "revoke ID (--customers a,b | --customers-file F | --search Q | --all-granted)",
		Short: "Revoke a promotion from customers (entries stay, as the audit trail)",
		Long: `Revoke a promotion: granted entries move to state revoked with revoked_at.
A customer covered only by grants.all gets a revoked entry of their own, an
exception to all. --all-granted revokes every granted entry and grants.all.
--search looks through the promotion's customers (see promoctl customers).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runStateChange(sc, args[0]) },
	}
	sc.sel.flags(cmd, "all-granted", "revoke every granted customer and grants.all")
	stateChangeFlags(cmd, sc)
	a.lockFlag(cmd)
	return cmd
}

func (a *app) regrantCommand() *cobra.Command {
	sc := &stateChange{verb: "regrant",
		byIDs: (*applyflow.Apply).Regrant, all: (*applyflow.Apply).RegrantAllRevoked}
	cmd := &cobra.Command{
		Use:   "regrant ID (--customers a,b | --customers-file F | --search Q | --all-revoked)",
		Short: "Re-grant a promotion to revoked customers",
		Long: `Re-grant a promotion: revoked entries move back to state granted with a new
granted_at and no revoked_at. --all-revoked re-grants every revoked entry and
a revoked grants.all. The same refusals as grant apply.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runStateChange(sc, args[0]) },
	}
	sc.sel.flags(cmd, "all-revoked", "re-grant every revoked customer and grants.all")
	stateChangeFlags(cmd, sc)
	a.lockFlag(cmd)
	return cmd
}

func stateChangeFlags(cmd *cobra.Command, sc *stateChange) {
	cmd.Flags().StringVar(&sc.at, "at", "", "RFC 3339 instant of the change (default now)")
	cmd.Flags().BoolVar(&sc.dryRun, "dry-run", false, "print the diff instead of writing")
}

// statusChange runs deactivate or activate.
func (a *app) statusCommand(verb, short, long string, change func(*applyflow.Apply) error) *cobra.Command {
	var at string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			when, err := atFlag(at)
			if err != nil {
				return err
			}
			s, err := a.openRepoForEdit(dryRun)
			if err != nil {
				return err
			}
			defer s.close()
			p, src, err := s.promotion(args[0])
			if err != nil {
				return err
			}
			plan, err := applyflow.NewApply(p, src, s.directory(), when)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if err := change(plan); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			return s.finish(verb, p.ID, p.File, src, plan)
		},
	}
	if verb == "deactivate" {
		cmd.Flags().StringVar(&at, "at", "", "RFC 3339 instant of the deactivation (default now)")
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the diff instead of writing")
	a.lockFlag(cmd)
	return cmd
}

func (a *app) deactivateCommand() *cobra.Command {
	return a.statusCommand("deactivate", "Deactivate a promotion and revoke every grant",
		`Deactivate a promotion: status deactivated with deactivated_at, every granted
customer moves to revoked with revoked_at, and grants.all gets revoked_at. A
deactivated promotion contributes nothing and cannot be granted.`,
		(*applyflow.Apply).Deactivate)
}

func (a *app) activateCommand() *cobra.Command {
	return a.statusCommand("activate", "Activate a deactivated promotion (grants stay revoked)",
		`Activate a deactivated promotion: status back to active, deactivated_at
removed. Customers revoked by the deactivation stay revoked until re-granted
(promoctl regrant ID --all-revoked).`,
		(*applyflow.Apply).Activate)
}
