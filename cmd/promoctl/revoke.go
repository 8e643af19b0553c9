package main

import (
	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions/applyflow"
)

func (a *app) revokeCommand() *cobra.Command {
	return a.stateChangeCommand(&stateChange{run: (*applyflow.Session).Revoke}, &cobra.Command{
		Use:   "revoke ID (--customers a,b | --customers-file F | --search Q | --all-granted)",
		Short: "Revoke a promotion from customers (entries stay, as the audit trail)",
		Long: `Revoke a promotion: an active period ends at --at (revoked_at), a scheduled
one is emptied, an ended one is left alone and said so. A customer covered
only by grants.all gets a revoked entry of their own, an exception to all.
--all-granted revokes every granted entry and grants.all. --search looks
through the promotion's customers (see promoctl customers).`,
		Example: `  promoctl revoke spring-api-boost --customers cus_016 --at 2026-04-10
  promoctl revoke webinar-sso --search lindqvist --dry-run
  promoctl revoke webinar-sso --all-granted`,
	}, "revoke", "all-granted", "revoke every granted customer and grants.all")
}
