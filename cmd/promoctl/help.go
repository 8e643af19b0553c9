package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/promoctl/promoctl/internal/suggest"
)

// usageHint is printed after an error about how a command was called: the
// command's usage line and where to find its examples.
func usageHint(cmd *cobra.Command) string {
	line := cmd.UseLine()
	if !cmd.Runnable() {
		line = cmd.CommandPath() + " [command]"
	}
	return fmt.Sprintf("Usage:\n  %s\nRun '%s --help' for examples and every flag.\n", line, cmd.CommandPath())
}

// commandName is the command as typed after "promoctl": "grant", "schema export".
func commandName(cmd *cobra.Command) string {
	if !cmd.HasParent() {
		return cmd.Name()
	}
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// argError is a mistake in how a command was called; the usage line
// follows the message.
type argError struct {
	cmd *cobra.Command
	err error
}

func (e *argError) Error() string { return e.err.Error() }
func (e *argError) Unwrap() error { return e.err }

// arg names one positional argument for messages: ID, "the promotion's id".
type arg struct{ name, meaning string }

// exactArgs accepts exactly the named arguments and, when one is missing,
// says which.
func exactArgs(args ...arg) cobra.PositionalArgs {
	return func(cmd *cobra.Command, got []string) error {
		if len(got) < len(args) {
			missing := args[len(got)]
			return &argError{cmd, fmt.Errorf("%s needs %s: %s", commandName(cmd), missing.name, missing.meaning)}
		}
		if len(got) > len(args) {
			return &argError{cmd, fmt.Errorf("%s takes only %s; unexpected %q", commandName(cmd), argNames(args), got[len(args)])}
		}
		return nil
	}
}

// noArgs refuses positional arguments.
func noArgs(cmd *cobra.Command, got []string) error {
	if len(got) > 0 {
		return &argError{cmd, fmt.Errorf("%s takes no arguments; unexpected %q", commandName(cmd), got[0])}
	}
	return nil
}

func argNames(args []arg) string {
	names := make([]string, len(args))
	for i, a := range args {
		names[i] = a.name
	}
	return strings.Join(names, " ")
}

// flagError turns pflag's parse errors into argErrors and suggests the
// closest flag for a mistyped one.
func flagError(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "unknown flag: --"); ok {
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		msg += suggest.InParentheses("--", suggest.Closest(name, names))
	}
	return &argError{cmd, fmt.Errorf("%s", msg)}
}

// didYouMean is ` (did you mean a, b?)` for the closest candidates, or "".
func didYouMean(name string, candidates []string) string {
	return suggest.InParentheses("", suggest.Closest(name, candidates))
}

// usage prints a command's help below its description: usage line,
// examples, subcommands, its own flags, and the limit flags in a section of
// their own, since they are rarely needed.
func usage(cmd *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if cmd.Runnable() {
		fmt.Fprintf(&b, "  %s\n", cmd.UseLine())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s [command]\n", cmd.CommandPath())
	}
	if len(cmd.Aliases) > 0 {
		fmt.Fprintf(&b, "\nAliases:\n  %s\n", cmd.NameAndAliases())
	}
	if cmd.HasExample() {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", cmd.Example)
	}
	if cmd.HasAvailableSubCommands() {
		b.WriteString("\nCommands:\n")
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() || c.Name() == "help" {
				fmt.Fprintf(&b, "  %-*s %s\n", cmd.NamePadding(), c.Name(), c.Short)
			}
		}
	}
	own, limits := pflag.NewFlagSet("own", pflag.ContinueOnError), pflag.NewFlagSet("limits", pflag.ContinueOnError)
	cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[limitFlagAnnotation]; ok {
			limits.AddFlag(f)
		} else {
			own.AddFlag(f)
		}
	})
	if own.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", own.FlagUsages())
	}
	if limits.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nLimits on input (the defaults suit any real repo; see docs/guarantees.md):\n%s", limits.FlagUsages())
	}
	if cmd.HasAvailableInheritedFlags() {
		fmt.Fprintf(&b, "\nGlobal Flags:\n%s", cmd.InheritedFlags().FlagUsages())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nUse \"%s [command] --help\" for more information about a command.\n", cmd.CommandPath())
	}
	_, err := fmt.Fprint(cmd.OutOrStderr(), b.String())
	return err
}
