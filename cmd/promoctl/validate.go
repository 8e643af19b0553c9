package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
)

func (a *app) validateCommand() *cobra.Command {
	var (
		format, now string
		base        baseFlags
	)
	cmd := &cobra.Command{
		Use:   "validate [--base REV | --base-dir DIR]",
		Short: "Check every file against the schemas and the cross-file rules, and the is_applied lock against a base",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := parseTimeFlag("now", now); err != nil {
				return err
			}
			switch format {
			case "text", "json", "github", "sarif":
			default:
				return usageError("--format must be text, json or github, or sarif for code scanning, not %q", format)
			}
			res, err := a.loadWithBase(&base, a.options())
			if err != nil {
				return err
			}
			return a.report(res, format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, json, github or sarif")
	base.add(cmd)
	cmd.Flags().StringVar(&now, "now", "", "evaluate time-dependent checks at this RFC 3339 instant (default now)")
	return cmd
}

// report prints a load's diagnostics in the chosen format and turns errors
// into exit code 1.
func (a *app) report(res *compiler.Result, format string) error {
	rep := report.Report{Diagnostics: res.Diagnostics, Source: os.DirFS(a.repo)}
	var err error
	switch format {
	case "json":
		err = rep.WriteJSON(a.stdout)
	case "github":
		err = rep.WriteGitHub(a.stdout)
	case "sarif":
		err = rep.WriteSARIF(a.stdout, report.SARIFOptions{URIPrefix: compiler.WorktreePrefix(a.repo)})
	default:
		err = rep.WriteText(a.stderr)
	}
	if err != nil {
		return &exitError{code: exitUsage, err: fmt.Errorf("write report: %w", err)}
	}
	errs, warns := len(res.Diagnostics.Errors()), len(res.Diagnostics.Warnings())
	if format == "text" {
		if errs > 0 {
			fmt.Fprintf(a.stderr, "%d error(s), %d warning(s) in %d file(s)\n", errs, warns, res.Files)
		} else {
			m := res.Model
			fmt.Fprintf(a.stdout, "ok: %d files, %d features, %d plans, %d customers, %d promotions, %d warning(s) (revision %s)\n",
				res.Files, len(m.Features), len(m.Plans), len(m.Customers), len(m.Promotions), warns, res.Revision)
		}
	}
	if errs > 0 || !res.OK() {
		return failed
	}
	return nil
}
