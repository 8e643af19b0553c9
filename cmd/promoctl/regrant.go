package main

import (
	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions/applyflow"
)

func (a *app) regrantCommand() *cobra.Command {
	return a.stateChangeCommand(&stateChange{run: (*applyflow.Session).Regrant}, &cobra.Command{
		Use:   "regrant ID (--customers a,b | --customers-file F | --search Q | --all-revoked)",
		Short: "Re-grant a promotion to revoked customers",
		Long: `Re-grant a promotion: a revoked entry gets a new period from --at, the
revoked one kept unchanged in previous. --all-revoked re-grants every revoked
entry and a revoked grants.all. The same refusals as grant apply.`,
		Example: `  promoctl regrant spring-api-boost --customers cus_016 --at 2026-05-01
  promoctl regrant webinar-sso --search lindqvist --dry-run`,
	}, "re-grant", "all-revoked", "re-grant every revoked customer and grants.all")
}
