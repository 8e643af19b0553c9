package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions/repogen"
)

func (a *app) genCommand() *cobra.Command {
	var (
		size, out string
		seed      int64
		force     bool
	)
	cmd := &cobra.Command{
		Use:   "gen --size S|M|L|tiny --out DIR",
		Short: "Write a synthetic config repo of a benchmark size (deterministic per seed)",
		Example: `  promoctl gen --size S --out /tmp/promoctl-s
  promoctl gen --size M --out /tmp/promoctl-m --seed 7`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, ok := repogen.Preset(size)
			if !ok {
				return usageError("--size must be one of %s, not %q", strings.Join(repogen.PresetNames(), ", "), size)
			}
			if out == "" {
				return usageError("--out is required")
			}
			empty, err := isEmptyDir(out)
			if err != nil {
				return usageError("--out %s: %w", out, err)
			}
			if !empty {
				if !force {
					return usageError("--out %s is not empty; use --force to replace its %s directories", out, strings.Join(repogen.Dirs, ", "))
				}
				// Stale files of a larger earlier run would make the
				// result invalid, so the generated directories go first.
				for _, d := range repogen.Dirs {
					if err := os.RemoveAll(filepath.Join(out, d)); err != nil {
						return &exitError{code: exitUsage, err: fmt.Errorf("clear %s: %w", out, err)}
					}
				}
			}
			cfg.Seed = seed
			if err := repogen.Generate(out, cfg); err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintf(a.stdout, "generated size %s (seed %d) in %s: %d features, %d plans, %d customers, %d promotions, %d grants\n",
				size, seed, out, cfg.Features, cfg.Plans, cfg.Customers, cfg.Promotions, cfg.Grants)
			return nil
		},
	}
	enumFlag(cmd, &size, "size", "data set size (see BENCHMARKS.md)", "S", "tiny", "M", "L")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the repo into (created when missing)")
	cmd.Flags().Int64Var(&seed, "seed", 1, "random seed; the same seed gives the same files")
	cmd.Flags().BoolVar(&force, "force", false, "write into a non-empty --out, replacing its generated directories")
	return cmd
}

// isEmptyDir reports whether dir is missing or has no entries.
func isEmptyDir(dir string) (bool, error) {
	f, err := os.Open(dir) // #nosec G304 -- the --out directory the user named
	if errors.Is(err, os.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, err := f.Readdirnames(1); errors.Is(err, io.EOF) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	return false, nil
}
