package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/promotions"
)

func (a *app) validateCommand() *cobra.Command {
	var (
		format, now string
		base        baseFlags
	)
	cmd := &cobra.Command{
		Use:   "validate [--base REV | --base-dir DIR]",
		Short: "Check every file against the schemas and the cross-file rules, and the is_applied lock against a base",
		Example: `  promoctl validate
  promoctl validate --base origin/main --format github
  promoctl validate --repo examples/acme --format json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := a.options()
			var err error
			if opts.Now, err = parseTimeFlag("now", now, nowExact); err != nil {
				return err
			}
			switch format {
			case "text", "json", "github", "sarif":
			default:
				return usageError("--format must be text, json or github, or sarif for code scanning, not %q", format)
			}
			res, err := a.loadWithBase(&base, opts)
			if err != nil {
				return err
			}
			reportErr := a.report(res, format)
			if !base.set() && insideGitWorkTree(a.repo) {
				// A green run without a base says nothing about the lock:
				// say so, or CI may be trusted with a check it did not do.
				const note = "the is_applied lock was not checked: pass --base REV (in CI: --base origin/<base branch>) to check it"
				if format == "github" {
					fmt.Fprintf(a.stdout, "::notice title=promoctl::%s\n", note)
				} else {
					fmt.Fprintf(a.stderr, "note: %s\n", note)
				}
			}
			return reportErr
		},
	}
	enumFlag(cmd, &format, "format", "output format (github: workflow annotations; sarif: code scanning)", "text", "json", "github", "sarif")
	base.add(cmd)
	cmd.Flags().StringVar(&now, "now", "", "the clock of the checks that compare a change with the present (GRANT_BACKDATED, WINDOW_CLOSED): an RFC 3339 instant (default now)")
	return a.readsRepo(cmd)
}

// report prints a load's diagnostics in the chosen format and turns errors
// into exit code 1.
func (a *app) report(res *compiler.Result, format string) error {
	diags := withLimitHints(res.Diagnostics)
	rep := report.Report{Diagnostics: diags, Source: compiler.OpenDir(a.repo)}
	var err error
	switch format {
	case "json":
		err = rep.WriteJSON(a.stdout)
	case "github":
		// Annotations land on a pull request's files only with paths
		// relative to the git work tree root, whatever --repo is.
		rep.Diagnostics = withPathPrefix(diags, compiler.WorktreePrefix(a.repo))
		err = rep.WriteGitHub(a.stdout)
	case "sarif":
		err = rep.WriteSARIF(a.stdout, report.SARIFOptions{URIPrefix: compiler.WorktreePrefix(a.repo), Version: currentBuild().Version})
	default:
		err = rep.WriteText(a.stderr)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("write report: %w", err)}
	}
	errs, warns := len(res.Diagnostics.Errors()), len(res.Diagnostics.Warnings())
	if format == "text" {
		if errs > 0 {
			fmt.Fprintf(a.stderr, "%s, %s in %s\n", count(errs, "error"), count(warns, "warning"), count(res.Files, "file"))
		} else {
			m := res.Model
			fmt.Fprintf(a.stdout, "ok: %s, %s, %s, %s, %s, %s (revision %s)\n",
				count(res.Files, "file"), count(len(m.Features), "feature"), count(len(m.Plans), "plan"),
				count(len(m.Customers), "customer"), count(len(m.Promotions), "promotion"), count(warns, "warning"), res.ContentHash)
		}
	}
	if errs > 0 || !res.OK() {
		return failed
	}
	return nil
}

// withPathPrefix returns the diagnostics with prefix before every file.
func withPathPrefix(diags promotions.Diagnostics, prefix string) promotions.Diagnostics {
	if prefix == "" {
		return diags
	}
	out := make(promotions.Diagnostics, len(diags))
	for i, d := range diags {
		if d.File != "" {
			d.File = prefix + d.File
		}
		out[i] = d
	}
	return out
}

// insideGitWorkTree reports whether dir is inside a git work tree: it or a
// parent holds .git (a directory, or a file in a linked worktree).
func insideGitWorkTree(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		if _, err := os.Lstat(filepath.Join(abs, ".git")); err == nil {
			return true
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return false
		}
		abs = parent
	}
}

// count is "1 plan" or "3 plans": n and the noun, plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
