package compiler

import (
	"fmt"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// backdateTolerance is how far before the check's clock a new grant period
// may start without a warning: the time between an edit and its check.
const backdateTolerance = time.Hour

// addedWarnings reports what a change adds that takes effect in the past
// (docs/rules.md): a new grant period starting more than an hour before now
// (GRANT_BACKDATED: decisions already given since then would change when
// the change merges) and a promotion new relative to the base whose window
// has already closed (WINDOW_CLOSED: nobody can ever be granted it). The
// diagnostics carry paths only; the caller positions them.
func addedWarnings(base, head *promotions.Model, now time.Time) promotions.Diagnostics {
	var out promotions.Diagnostics
	for _, id := range promotions.SortedKeys(head.Promotions) {
		p := head.Promotions[id]
		bp := base.Promotions[id]
		if bp == nil && p.Window.End != nil && !p.Window.End.After(now) {
			out = append(out, promotions.WarningAt(promotions.CodeWindowClosed, p.File, promotions.P("window", "end"),
				"promotion %s is new but its window closed at %s, %s before now (%s): nobody can ever be granted it; set window.end to a later instant or remove it",
				p.ID, ts(*p.Window.End), gap(now.Sub(*p.Window.End)), ts(now)))
		}
		out = append(out, backdatedPeriods(p, bp, now)...)
	}
	return out
}

// backdatedPeriods checks the periods p has beyond those of its base
// version bp (nil for a new promotion).
func backdatedPeriods(p, bp *promotions.Promotion, now time.Time) promotions.Diagnostics {
	var out promotions.Diagnostics
	limit := now.Add(-backdateTolerance)
	// A revoke exception to grants.all copies all's start as its first
	// period: it keeps the past as it was, so it is not backdating.
	var allStarts map[int64]bool
	if bp != nil && bp.Grants.All != nil {
		allStarts = map[int64]bool{}
		for _, per := range bp.Grants.All.Periods() {
			allStarts[per.GrantedAt.UnixNano()] = true
		}
	}
	check := func(entry promotions.Path, who string, previous []promotions.Period, current promotions.Period, known int) {
		total := len(previous) + 1
		for j := known; j < total; j++ {
			per, at := current, entry.Key("granted_at")
			if j < len(previous) {
				per, at = previous[j], entry.Key("previous").Index(j).Key("granted_at")
			}
			if !per.GrantedAt.Before(limit) || allStarts[per.GrantedAt.UnixNano()] {
				continue
			}
			out = append(out, promotions.WarningAt(promotions.CodeGrantBackdated, p.File, at,
				"%s in %s starts at %s, %s before now (%s): decisions already given since then would change when this change merges; start it now or later (granted_at: %s or later)",
				who, p.ID, ts(per.GrantedAt), gap(now.Sub(per.GrantedAt)), ts(now), ts(now.Truncate(time.Minute).Add(time.Minute))))
		}
	}
	if all := p.Grants.All; all != nil {
		known := 0
		if bp != nil && bp.Grants.All != nil {
			known = len(bp.Grants.All.Previous) + 1
		}
		check(promotions.P("grants", "all"), "the new period of grants.all", all.Previous, promotions.Period{GrantedAt: all.GrantedAt, RevokedAt: all.RevokedAt}, known)
	}
	var baseByID map[string]int // built only when entries moved
	for i, g := range p.Grants.Customers {
		known := 0
		if bp != nil {
			switch {
			case i < len(bp.Grants.Customers) && bp.Grants.Customers[i].ID == g.ID:
				known = len(bp.Grants.Customers[i].Previous) + 1
			default:
				if baseByID == nil {
					baseByID = make(map[string]int, len(bp.Grants.Customers))
					for _, bg := range bp.Grants.Customers {
						baseByID[bg.ID] = len(bg.Previous) + 1
					}
				}
				known = baseByID[g.ID]
			}
		}
		check(promotions.P("grants", "customers", i), "customer "+g.ID+"'s new grant period", g.Previous,
			promotions.Period{GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt}, known)
	}
	return out
}

// gap says how long ago something was, in the largest units that matter.
func gap(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	hours := int(d % (24 * time.Hour) / time.Hour)
	minutes := int(d % time.Hour / time.Minute)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%s %s", plural(days, "day"), plural(hours, "hour"))
	case days > 0:
		return plural(days, "day")
	case hours > 0 && minutes > 0:
		return fmt.Sprintf("%s %s", plural(hours, "hour"), plural(minutes, "minute"))
	case hours > 0:
		return plural(hours, "hour")
	default:
		return plural(minutes, "minute")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
