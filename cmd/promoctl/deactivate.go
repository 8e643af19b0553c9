package main

import (
	"github.com/spf13/cobra"
)

func (a *app) deactivateCommand() *cobra.Command {
	return a.statusCommand("deactivate", "Deactivate a promotion and revoke every grant",
		`Deactivate a promotion: status deactivated with deactivated_at, every granted
customer moves to revoked with revoked_at, and grants.all gets revoked_at. A
deactivated promotion contributes nothing and cannot be granted.`,
		`  promoctl deactivate webinar-sso --at 2026-06-01 --dry-run
  promoctl deactivate webinar-sso --at 2026-06-01T00:00:00Z`)
}
