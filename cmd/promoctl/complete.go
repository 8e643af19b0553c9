package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions"
)

// Shell completion (promoctl completion bash|zsh|fish|powershell) offers,
// besides commands and flags, what the repo holds: promotion ids for a
// command's ID argument, customer ids, features and plans for the flags
// that name them, and each --format's values.

// enumFlag adds a string flag whose values are fixed; the first is the
// default, and completion offers them all.
func enumFlag(cmd *cobra.Command, p *string, name, usage string, values ...string) {
	cmd.Flags().StringVar(p, name, values[0], usage+": "+orList(values))
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// orList is "a, b or c".
func orList(values []string) string {
	if len(values) == 1 {
		return values[0]
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}

// repoFlagCompletions maps a flag of a repo command to what it names.
var repoFlagCompletions = map[string]func(*promotions.Model) []string{
	"customers":     customerIDs,
	"customer":      customerIDs,
	"feature":       func(m *promotions.Model) []string { return promotions.SortedKeys(m.Features) },
	"plan":          planKeys,
	"eligible-plan": planKeys,
}

func customerIDs(m *promotions.Model) []string {
	if m.HasDirectory {
		return m.CustomerIDs()
	}
	// Without a directory, the customers the promotions name.
	seen := map[string]bool{}
	for _, p := range m.Promotions {
		for _, g := range p.Grants.Customers {
			seen[g.ID] = true
		}
	}
	return promotions.SortedKeys(seen)
}

func planKeys(m *promotions.Model) []string { return promotions.SortedKeys(m.Plans) }

// addCompletions registers the repo-backed completions of cmd and of its
// subcommands.
func (a *app) addCompletions(cmd *cobra.Command) {
	for _, sub := range cmd.Commands() {
		a.addCompletions(sub)
	}
	if cmd.Annotations[readsRepoAnnotation] == "" {
		return
	}
	if strings.HasPrefix(strings.TrimPrefix(cmd.Use, cmd.Name()), " ID") && cmd.ValidArgsFunction == nil {
		cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return a.completeFromRepo(cmd, func(m *promotions.Model) []string { return m.PromotionIDs() }, toComplete, false)
		}
	}
	for name, list := range repoFlagCompletions {
		if cmd.Flags().Lookup(name) == nil {
			continue
		}
		commaList := name == "customers"
		_ = cmd.RegisterFlagCompletionFunc(name, func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.completeFromRepo(cmd, list, toComplete, commaList)
		})
	}
}

// completeFromRepo loads the repo quietly and offers the values of list
// that start with toComplete. In a comma-separated list (--customers
// a,b,c) it completes the last element.
func (a *app) completeFromRepo(cmd *cobra.Command, list func(*promotions.Model) []string, toComplete string, commaList bool) ([]string, cobra.ShellCompDirective) {
	if err := a.resolveRepo(cmd); err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	res, err := compiler.Load(compiler.OpenDir(a.repo), a.options())
	if err != nil || res.Model == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	prefix, partial := "", toComplete
	if commaList {
		if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
			prefix, partial = toComplete[:i+1], toComplete[i+1:]
		}
	}
	var out []string
	for _, v := range list(res.Model) {
		if strings.HasPrefix(v, partial) {
			out = append(out, prefix+v)
		}
	}
	directive := cobra.ShellCompDirectiveNoFileComp
	if commaList {
		directive |= cobra.ShellCompDirectiveNoSpace
	}
	return out, directive
}
