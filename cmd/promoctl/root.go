package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions"
)

// Exit codes.
const (
	exitOK         = 0
	exitValidation = 1 // validation failed or policy refused
	exitUsage      = 2 // usage or I/O error
)

// exitError carries an exit code through cobra. A nil err means the message
// was already printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// failed reports that output already explained a validation failure.
var failed = &exitError{code: exitValidation}

// app holds what every command shares.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	repo           string
	// limits bound what a load accepts (--max-file-size, …); every command
	// that loads the repo passes them on, so validate and the editing
	// commands accept exactly the same files.
	limits promotions.Limits
	// lockTimeout is how long an editing command waits for the repo lock.
	lockTimeout time.Duration
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, limits: promotions.DefaultLimits}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "promoctl: %v\n", ee.err)
		}
		return ee.code
	}
	// Mistakes in how the command was called (a missing argument, an
	// unknown flag or command): the message, then the usage line.
	var ae *argError
	if errors.As(err, &ae) {
		cmd = ae.cmd
	}
	fmt.Fprintf(stderr, "promoctl: %s\n%s", strings.TrimRight(err.Error(), "\n"), usageHint(cmd))
	return exitUsage
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "promoctl",
		Short: "Promotional entitlements as code: validate, edit, explain and serve",
		Example: `  promoctl init acme-config && cd acme-config
  promoctl validate
  promoctl explain --customer cus_001 --feature api_calls --at 2026-04-25
  promoctl grant welcome-sso --customers cus_001 --dry-run`,
		Version:       currentBuild().Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Commands without --repo find the repo from the current
		// directory (see repo.go).
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.resolveRepo(cmd) },
	}
	root.SetVersionTemplate(currentBuild().String())
	root.SetUsageFunc(usage)
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(a.commands()...)
	a.addCompletions(root)
	return root
}

// options are the load options every command starts from.
func (a *app) options() compiler.Options {
	return compiler.Options{Limits: a.limits}
}

// load reads and checks the repo the way every command does, so that what
// validate accepts is exactly what the other commands work on.
func (a *app) load(opts compiler.Options) (*compiler.Result, error) {
	info, err := os.Stat(a.repo)
	if err != nil {
		return nil, usageError("repo %s: %w", a.repo, err)
	}
	if !info.IsDir() {
		return nil, usageError("repo %s is not a directory", a.repo)
	}
	res, err := compiler.Load(compiler.OpenDir(a.repo), opts)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("load %s: %w", a.repo, err)}
	}
	return res, nil
}
