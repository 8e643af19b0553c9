package main

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

//go:embed all:scaffold
var scaffold embed.FS

func (a *app) initCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "init DIR",
		Short: "Scaffold a config repo: a feature, a plan, a customer file, a promotion and a CI workflow",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			root, err := fs.Sub(scaffold, "scaffold")
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			var written []string
			err = fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				dst := filepath.Join(dir, filepath.FromSlash(p))
				if _, err := os.Stat(dst); err == nil {
					return fmt.Errorf("%s already exists; init does not overwrite", dst)
				}
				data, err := fs.ReadFile(root, p)
				if err != nil {
					return err
				}
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return err
				}
				written = append(written, p)
				return os.WriteFile(dst, data, 0o644)
			})
			if err != nil {
				return usageError("init %s: %w", dir, err)
			}
			for _, p := range written {
				fmt.Fprintf(a.stdout, "created %s\n", filepath.Join(dir, filepath.FromSlash(p)))
			}
			fmt.Fprintf(a.stdout, "next: promoctl validate --repo %s\n", dir)
			return nil
		},
	}
}
