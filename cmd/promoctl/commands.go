package main

import "github.com/spf13/cobra"

// commands builds every subcommand, in this one place. Each is made by its
// constructor in the file named after it (grant.go: grantCommand); help
// lists them sorted by name whatever the order here.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		// Start and check a config repo.
		a.initCommand(),
		a.validateCommand(),
		a.diffCommand(),
		a.schemaCommand(),
		// Edit it.
		a.createCommand(),
		a.grantCommand(),
		a.revokeCommand(),
		a.regrantCommand(),
		a.deactivateCommand(),
		a.activateCommand(),
		// Read it.
		a.explainCommand(),
		a.customerCommand(),
		a.customersCommand(),
		a.promotionsCommand(),
		a.historyCommand(),
		// Serve it.
		a.serveCommand(),
		a.consoleCommand(),
		a.buildCommand(),
		a.keygenCommand(),
		a.inspectCommand(),
		a.usageCommand(),
		// Everything else.
		a.genCommand(),
		a.versionCommand(),
	}
}
