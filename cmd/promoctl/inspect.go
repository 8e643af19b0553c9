package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler/bundle"
)

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
