package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/bundle"
)

func (a *app) keygenCommand() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "keygen --out NAME",
		Short: "Write a new ed25519 key pair for signing bundles: NAME.key (private, mode 0600) and NAME.pub",
		Example: `  promoctl keygen --out release
  promoctl build --out config.bundle --sign-key release.key`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("--out is required")
			}
			privPEM, pubPEM, err := bundle.GenerateKey()
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			for _, f := range []struct {
				path string
				data []byte
				perm os.FileMode
			}{{out + ".key", privPEM, 0o600}, {out + ".pub", pubPEM, 0o644}} {
				if err := writeNew(f.path, f.data, f.perm); err != nil {
					return err
				}
			}
			pub, err := bundle.ParsePublicKey(pubPEM)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			fmt.Fprintf(a.stdout, "wrote %s.key (private: keep it secret) and %s.pub (key %s)\n", out, out, bundle.KeyID(pub))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "name of the key files (NAME.key and NAME.pub)")
	return cmd
}

// writeNew writes a file that must not exist yet: a key is never
// overwritten.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm) // #nosec G304 -- the operator's own --out
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usageError("%s exists; not overwriting a key", path)
		}
		return usageError("write %s: %v", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return usageError("write %s: %v", path, err)
	}
	return nil
}
