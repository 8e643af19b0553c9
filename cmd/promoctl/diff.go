package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
)

// baseFlags are --base and --base-dir, shared by validate and diff.
type baseFlags struct {
	rev, dir string
}

func (b *baseFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&b.rev, "base", "", "git revision to compare against (origin/main, HEAD~1, a tag or sha)")
	cmd.Flags().StringVar(&b.dir, "base-dir", "", "directory holding the base version of the config repo")
	cmd.MarkFlagsMutuallyExclusive("base", "base-dir")
}

func (b *baseFlags) set() bool { return b.rev != "" || b.dir != "" }

// open reads the base tree and names it for output.
func (b *baseFlags) open(repo string) (fs.FS, string, error) {
	if b.dir != "" {
		info, err := os.Stat(b.dir)
		if err != nil {
			return nil, "", usageError("base-dir %s: %w", b.dir, err)
		}
		if !info.IsDir() {
			return nil, "", usageError("base-dir %s is not a directory", b.dir)
		}
		return compiler.OpenDir(b.dir), b.dir, nil
	}
	base, err := compiler.OpenRevision(repo, b.rev)
	if err != nil {
		var (
			nf     *compiler.BaseNotFoundError
			noRepo *compiler.NoRepositoryError
		)
		switch {
		case errors.As(err, &nf):
			return nil, "", &exitError{code: exitUsage, err: errors.New(baseNotFoundHint(nf))}
		case errors.As(err, &noRepo):
			return nil, "", usageError("--base %s: %w (use --base-dir to compare against a directory)", b.rev, err)
		}
		return nil, "", usageError("--base %s: %w", b.rev, err)
	}
	return base.FS, fmt.Sprintf("%s (%s)", b.rev, base.Commit[:7]), nil
}

// loadWithBase loads the repo, against the base when one was given.
func (a *app) loadWithBase(b *baseFlags, opts compiler.Options) (*compiler.Result, error) {
	if !b.set() {
		return a.load(opts)
	}
	if err := a.checkRepo(); err != nil {
		return nil, err
	}
	base, _, err := b.open(a.repo)
	if err != nil {
		return nil, err
	}
	res, err := compiler.LoadWithBase(compiler.OpenDir(a.repo), base, opts)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("load %s: %w", a.repo, err)}
	}
	return res, nil
}

func (a *app) checkRepo() error {
	info, err := os.Stat(a.repo)
	if err != nil {
		return usageError("repo %s: %w", a.repo, err)
	}
	if !info.IsDir() {
		return usageError("repo %s is not a directory", a.repo)
	}
	return nil
}

func (a *app) diffCommand() *cobra.Command {
	var (
		base        baseFlags
		format, now string
	)
	cmd := &cobra.Command{
		Use:   "diff --base REV|--base-dir DIR",
		Short: "Show what a change does: promotions, grants, customers, plans, lock violations",
		Long: "Compares the repo with a base (a git revision or a directory) and prints a plan: " +
			"promotions added, changed (field by field), deactivated, reactivated or deleted; grants added, " +
			"revoked and re-granted; customers, plans and features changed; and is_applied lock violations. " +
			"--format markdown fits a pull request comment. The exit code is 0 whenever a plan was printed: " +
			"validate is the gate.",
		Example: `  promoctl diff --base origin/main
  promoctl diff --base origin/main --format markdown > plan.md
  promoctl diff --base-dir ../config-main --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "text", "markdown", "json":
			default:
				return usageError("--format must be text, markdown or json, not %q", format)
			}
			if !base.set() {
				return usageError("diff needs --base REV or --base-dir DIR")
			}
			if err := a.checkRepo(); err != nil {
				return err
			}
			baseFS, label, err := base.open(a.repo)
			if err != nil {
				return err
			}
			opts := a.options()
			if opts.Now, err = parseTimeFlag("now", now, nowExact); err != nil {
				return err
			}
			changes, err := compiler.Diff(compiler.OpenDir(a.repo), baseFS, opts, label, "working tree")
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("diff %s: %w", a.repo, err)}
			}
			switch format {
			case "markdown":
				err = report.ChangesMarkdown(a.stdout, changes)
			case "json":
				err = report.ChangesJSON(a.stdout, changes)
			default:
				err = report.ChangesText(a.stdout, changes)
			}
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("write plan: %w", err)}
			}
			return nil
		},
	}
	base.add(cmd)
	enumFlag(cmd, &format, "format", "output format", "text", "markdown", "json")
	cmd.Flags().StringVar(&now, "now", "", "the clock of the warnings on what the change adds (GRANT_BACKDATED, WINDOW_CLOSED): an RFC 3339 instant (default now)")
	return a.readsRepo(cmd)
}

// baseNotFoundHint says how to get a base revision that is not in the
// clone, from what the repository has.
func baseNotFoundHint(e *compiler.BaseNotFoundError) string {
	head := e.Error()
	const actions = "; in GitHub Actions check out with actions/checkout and fetch-depth: 0"
	if e.Relative() {
		// Relative to another revision (HEAD~1): only more history helps.
		if e.Shallow && len(e.Remotes) > 0 {
			return head + `: the clone is shallow; fetch the history with "git fetch --unshallow"` + actions
		}
		return head + ": the history has no such commit; name one that exists (git log --oneline)"
	}
	remote, branch, ok := e.Fetch()
	if !ok {
		return head + ": this repository has no remote to fetch it from; name a branch, tag or commit it has " +
			"(git branch -a, git tag), or compare with a directory (--base-dir)"
	}
	return fmt.Sprintf(`%s: fetch it with "git fetch %s %s:refs/remotes/%s/%s" and pass --base %s/%s%s`,
		head, remote, branch, remote, branch, remote, branch, actions)
}
