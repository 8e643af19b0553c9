package main

import (
	"github.com/spf13/cobra"

	"github.com/promoctl/promoctl/promotions/applyflow"
)

func (a *app) grantCommand() *cobra.Command {
	return a.stateChangeCommand(&stateChange{run: (*applyflow.Session).Grant}, &cobra.Command{
		Use:   "grant ID (--customers a,b | --customers-file F | --search Q | --all)",
		Short: "Grant a promotion to customers (new ones, and a new period for ended ones)",
		Long: `Grant a promotion. New customers get an entry in state granted; a customer
whose last period has ended (expired or revoked) gets a new period, the ended
one kept unchanged in previous; customers who hold it now or from a later
date are left alone. --all grants it through grants.all to every eligible
customer, now and later. Sets is_applied: true.

Nothing is written when any customer is refused (unknown to the directory,
not eligible), when --at is outside the promotion window, or when the
promotion is deactivated; every refused customer is listed.`,
		Example: `  promoctl grant spring-api-boost --customers cus_001,cus_004 --at 2026-04-20
  promoctl grant webinar-sso --customers-file attendees.txt --dry-run
  promoctl grant webinar-sso --search "@example.com"
  promoctl grant sso-for-growth --all`,
	}, "grant", "all", "grant to every eligible customer through grants.all")
}
