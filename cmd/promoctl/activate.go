package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

func (a *app) activateCommand() *cobra.Command {
	return a.statusCommand("activate", "Activate a deactivated promotion; --restore also re-grants what the deactivation revoked",
		`Activate a deactivated promotion: status back to active, deactivated_at
removed. Without --restore, customers stay revoked until re-granted, and
activate prints the exact commands that re-grant what the deactivation
revoked. With --restore, the same edit re-grants (at --at) each entry and
grants.all whose revoked_at equals the deactivated_at being cleared;
customers revoked before the deactivation stay revoked.`,
		`  promoctl activate webinar-sso --restore --at 2026-06-03 --dry-run
  promoctl activate webinar-sso --restore
  promoctl activate webinar-sso`)
}

// restoreHint follows a plain activate: it names exactly what the
// deactivation revoked and how to re-grant just that, since
// regrant --all-revoked would also re-grant customers revoked before it.
func (a *app) restoreHint(p *promotions.Promotion, dryRun bool) {
	ids, all := applyflow.RevokedByDeactivation(p)
	if len(ids) == 0 && !all {
		return
	}
	what := count(len(ids), "customer")
	if all {
		what += " and grants.all"
	}
	fmt.Fprintf(a.stdout, "the deactivation at %s revoked %s; ", promotions.FormatTime(*p.DeactivatedAt), what)
	if dryRun {
		fmt.Fprintf(a.stdout, "to re-grant exactly those in the same edit:\n  promoctl activate %s --restore\n", p.ID)
		return
	}
	fmt.Fprintln(a.stdout, "to re-grant exactly those (not customers revoked before it):")
	if len(ids) > 0 {
		fmt.Fprintf(a.stdout, "  promoctl regrant %s --customers %s\n", p.ID, strings.Join(ids, ","))
	}
	if all {
		fmt.Fprintf(a.stdout, "  promoctl grant %s --all\n", p.ID)
	}
}
