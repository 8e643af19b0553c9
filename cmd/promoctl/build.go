package main

import (
	"crypto/ed25519"
	"fmt"
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
				if err := (report.Report{Diagnostics: withLimitHints(res.Diagnostics), Source: compiler.OpenDir(a.repo)}).WriteText(a.stderr); err != nil {
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
