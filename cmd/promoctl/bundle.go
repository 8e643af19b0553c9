package main

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/evaluator/source/repo"
	"github.com/promoctl/promoctl/internal/fsutil"
)

func (a *app) buildCommand() *cobra.Command {
	var out, signKey string
	cmd := &cobra.Command{
		Use:   "build --out FILE [--sign-key KEY.pem]",
		Short: "Validate the repo and write its compiled state as a bundle that sidecars start from",
		Long: `Validate the repo exactly as validate does and write a bundle: the compiled
state in a versioned binary file with a SHA-256, optionally signed with an
ed25519 key (promoctl keygen). The bundle records when it was built: the
current time, or SOURCE_DATE_EPOCH when set, so that the same repo built
with the same SOURCE_DATE_EPOCH gives the same bytes. On any validation
error nothing is written and the exit code is 1.`,
		Example: `  promoctl build --repo examples/acme --out acme.bundle
  promoctl build --out config.bundle --sign-key release.key`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError("--out is required")
			}
			key, err := readSigningKey(signKey)
			if err != nil {
				return err
			}
			res, err := a.load(a.options())
			if err != nil {
				return err
			}
			if !res.OK() {
				if err := (report.Report{Diagnostics: res.Diagnostics, Source: compiler.OpenDir(a.repo)}).WriteText(a.stderr); err != nil {
					return &exitError{code: exitUsage, err: fmt.Errorf("write report: %w", err)}
				}
				fmt.Fprintf(a.stderr, "%s: no bundle written\n", count(len(res.Diagnostics.Errors()), "error"))
				return failed
			}
			_, sourceBytes, err := compiler.ContentHash(compiler.OpenDir(a.repo), a.limits)
			if err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("read %s: %w", a.repo, err)}
			}
			rev := repo.ResolveRevision(a.repo, res.ContentHash, nil)
			h := bundle.Header{
				Promoctl: currentBuild().Version, Revision: rev.Revision, Commit: rev.Commit, Dirty: rev.Dirty,
				ContentHash: res.ContentHash, CommitTime: rev.CommitTime, SourceBytes: sourceBytes,
			}
			if h.BuildTime, err = buildTime(); err != nil {
				return err
			}
			data, err := bundle.Encode(res.Model, h, key)
			if err != nil {
				return &exitError{code: exitUsage, err: err}
			}
			if err := fsutil.WriteFileAtomic(out, data, 0o644); err != nil {
				return &exitError{code: exitUsage, err: fmt.Errorf("write %s: %w", out, err)}
			}
			signed := "unsigned"
			if key != nil {
				signed = "signed by " + bundle.KeyID(key.Public().(ed25519.PublicKey))
			}
			fmt.Fprintf(a.stdout, "wrote %s: %d bytes (%.0f%% of %d bytes of YAML), revision %s, %s\n",
				out, len(data), 100*float64(len(data))/float64(max(sourceBytes, 1)), sourceBytes, rev.Revision, signed)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "the bundle file to write")
	cmd.Flags().StringVar(&signKey, "sign-key", "", "ed25519 private key (PEM) to sign the bundle with")
	return a.readsRepo(cmd)
}

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

func (a *app) inspectCommand() *cobra.Command {
	var verifyKey string
	cmd := &cobra.Command{
		Use:   "inspect FILE [--verify-key PUB.pem]",
		Short: "Check a bundle's hash (and signature) and print its header",
		Example: `  promoctl inspect acme.bundle
  promoctl inspect config.bundle --verify-key release.pub`,
		Args: exactArgs(arg{"FILE", "the bundle to check"}),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := readVerifyKey(verifyKey)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(args[0]) // #nosec G304 -- the operator's own file
			if err != nil {
				return usageError("read %s: %v", args[0], err)
			}
			b, err := bundle.Verify(data, bundle.Options{Key: pub})
			if err != nil {
				return &exitError{code: exitValidation, err: fmt.Errorf("%s: %w", args[0], err)}
			}
			printHeader(a, args[0], len(data), b)
			return nil
		},
	}
	cmd.Flags().StringVar(&verifyKey, "verify-key", "", "ed25519 public key (PEM) that must have signed the bundle")
	return cmd
}

func printHeader(a *app, file string, size int, b *bundle.Bundle) {
	h := b.Header
	w := a.stdout
	fmt.Fprintf(w, "bundle:      %s (%d bytes)\n", file, size)
	fmt.Fprintf(w, "format:      %d\n", h.FormatVersion)
	fmt.Fprintf(w, "promoctl:    %s\n", h.Promoctl)
	fmt.Fprintf(w, "revision:    %s\n", h.Revision)
	commit := h.Commit
	switch {
	case commit == "":
		commit = "none"
	case h.Dirty:
		commit += " (files differ from it)"
	}
	fmt.Fprintf(w, "commit:      %s\n", commit)
	commitTime := "none"
	if !h.CommitTime.IsZero() {
		commitTime = h.CommitTime.UTC().Format(time.RFC3339)
	}
	fmt.Fprintf(w, "commit time: %s\n", commitTime)
	buildTime := "none"
	if !h.BuildTime.IsZero() {
		buildTime = h.BuildTime.UTC().Format(time.RFC3339Nano)
	}
	fmt.Fprintf(w, "build time:  %s\n", buildTime)
	fmt.Fprintf(w, "content:     %s\n", h.ContentHash)
	c := h.Counts
	fmt.Fprintf(w, "counts:      %d features, %d plans, %d customers, %d promotions, %d grants\n", c.Features, c.Plans, c.Customers, c.Promotions, c.Grants)
	fmt.Fprintf(w, "built from:  %d bytes of YAML\n", h.SourceBytes)
	fmt.Fprintf(w, "sha256:      %s\n", b.Hash)
	switch {
	case b.SignedBy == "":
		fmt.Fprintf(w, "signature:   none\n")
	case b.Verified:
		fmt.Fprintf(w, "signature:   %s, verified\n", b.SignedBy)
	default:
		fmt.Fprintf(w, "signature:   %s, not verified (no --verify-key)\n", b.SignedBy)
	}
}

// buildTime is when a bundle is built: SOURCE_DATE_EPOCH (seconds since
// 1970, the reproducible-builds convention) when set, else now.
func buildTime() (time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Now().UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 || sec > 253402300799 {
		return time.Time{}, usageError("SOURCE_DATE_EPOCH must be seconds since 1970 up to the year 9999, not %q", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
