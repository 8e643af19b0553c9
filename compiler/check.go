package compiler

import (
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// The cross-file rules (docs/rules.md) that CUE cannot express: they need more
// than one file (references, uniqueness, eligibility) or compare instants.
// fullCheck and loadState.advance (incremental.go) run them.

// checkCatalog checks plans and customers: what promotions refer to.
func checkCatalog(m *promotions.Model, gaps loadGaps) promotions.Diagnostics {
	var diags promotions.Diagnostics
	add := func(d promotions.Diagnostic) { diags = append(diags, d) }

	for _, key := range promotions.SortedKeys(m.Plans) {
		p := m.Plans[key]
		seen := map[string]bool{}
		for i, e := range p.Entitlements {
			path := promotions.P("entitlements", i)
			if seen[e.Feature] {
				add(promotions.ErrorAt(promotions.CodeDuplicateID, p.File, path.Key("feature"),
					"plan %s lists feature %s more than once", p.Key, e.Feature))
				continue
			}
			seen[e.Feature] = true
			f, ok := m.Features[e.Feature]
			if !ok && gaps.mayDefine(promotions.KindFeature, e.Feature) {
				continue
			}
			if !ok {
				add(promotions.ErrorAt(promotions.CodeUnknownFeature, p.File, path.Key("feature"),
					"plan %s names feature %q, which is not defined", p.Key, e.Feature))
				continue
			}
			switch {
			case f.Type == promotions.FeatureMetered && e.Allowance == nil:
				add(promotions.ErrorAt(promotions.CodeFeatureTypeMismatch, p.File, path.Key("allowance"),
					"feature %s is metered: expected an allowance, found none", f.Key))
			case f.Type == promotions.FeatureMetered && e.Reset == "":
				add(promotions.ErrorAt(promotions.CodeFeatureTypeMismatch, p.File, path.Key("reset"),
					"feature %s is metered: expected a reset, found none", f.Key))
			case f.Type == promotions.FeatureBoolean && e.Allowance != nil:
				add(promotions.ErrorAt(promotions.CodeFeatureTypeMismatch, p.File, path.Key("allowance"),
					"feature %s is boolean: expected no allowance, found %s", f.Key, e.Allowance))
			case f.Type == promotions.FeatureBoolean && e.Reset != "":
				add(promotions.ErrorAt(promotions.CodeFeatureTypeMismatch, p.File, path.Key("reset"),
					"feature %s is boolean: expected no reset, found %s", f.Key, e.Reset))
			}
		}
	}

	// Map order: diagnostics are sorted by position in the end, and sorting
	// a million ids on every reload would cost more than the check.
	for _, c := range m.Customers {
		if _, ok := m.Plans[c.Plan]; !ok && !gaps.mayDefine(promotions.KindPlan, c.Plan) {
			add(promotions.ErrorAt(promotions.CodeUnknownPlan, c.File, promotions.P("customers", c.Index, "plan"),
				"customer %s is on plan %q, which is not defined", c.ID, c.Plan))
		}
		if a := c.BillingAnchor; a != nil && !promotions.InRange(*a) {
			path := promotions.P("customers", c.Index, "billing_anchor")
			add(promotions.ErrorAt(promotions.CodeSchema, c.File, path, outOfRangeMsg, path, ts(*a)))
		}
	}
	return diags
}

func checkPromotion(m *promotions.Model, gaps loadGaps, base *promotions.Model, p *promotions.Promotion) promotions.Diagnostics {
	var diags promotions.Diagnostics
	add := func(code promotions.Code, path promotions.Path, format string, args ...any) {
		diags = append(diags, promotions.ErrorAt(code, p.File, path, format, args...))
	}

	if f, ok := m.Features[p.Feature]; !ok && gaps.mayDefine(promotions.KindFeature, p.Feature) {
		// reported in the feature's own file
	} else if !ok {
		add(promotions.CodeUnknownFeature, promotions.P("feature"), "promotion %s names feature %q, which is not defined", p.ID, p.Feature)
	} else if f.Type != p.FeatureType {
		add(promotions.CodeFeatureTypeMismatch, promotions.P("feature_type"),
			"feature_type is %s but feature %s is %s", p.FeatureType, f.Key, f.Type)
	}
	if p.Eligibility != nil {
		for i, plan := range p.Eligibility.Plans {
			if _, ok := m.Plans[plan]; !ok && !gaps.mayDefine(promotions.KindPlan, plan) {
				add(promotions.CodeUnknownPlan, promotions.P("eligibility", "plans", i), "eligibility names plan %q, which is not defined", plan)
			}
		}
	}
	windowOK := true
	for _, at := range []struct {
		path promotions.Path
		t    *time.Time
	}{{promotions.P("window", "start"), p.Window.Start}, {promotions.P("window", "end"), p.Window.End}, {promotions.P("deactivated_at"), p.DeactivatedAt}} {
		if at.t != nil && !promotions.InRange(*at.t) {
			add(promotions.CodeSchema, at.path, outOfRangeMsg, at.path, ts(*at.t))
			windowOK = false
		}
	}
	w := p.Window
	if windowOK && w.Start != nil && w.End != nil && !w.End.After(*w.Start) {
		add(promotions.CodeWindowInverted, promotions.P("window", "end"),
			"window.end %s must be after window.start %s", ts(*w.End), ts(*w.Start))
	}

	hasGrants := p.Grants.All != nil || len(p.Grants.Customers) > 0
	if hasGrants && !p.IsApplied {
		add(promotions.CodeNotApplied, promotions.P("is_applied"),
			"promotion %s has grants, so is_applied must be true (found false)", p.ID)
	}
	deactivated := p.Status == promotions.StatusDeactivated

	if all := p.Grants.All; all != nil {
		path := promotions.P("grants", "all")
		diags = append(diags, checkPeriods(p, path, "grants.all", all.Previous, promotions.Period{GrantedAt: all.GrantedAt, RevokedAt: all.RevokedAt})...)
		if deactivated && all.RevokedAt == nil {
			add(promotions.CodeDeactivatedWithGrants, path,
				"promotion %s is deactivated but grants.all has no revoked_at", p.ID)
		}
	}

	var baseGrants map[string]promotions.CustomerGrant
	if base != nil {
		if bp, ok := base.Promotions[p.ID]; ok {
			baseGrants = make(map[string]promotions.CustomerGrant, len(bp.Grants.Customers))
			for _, g := range bp.Grants.Customers {
				baseGrants[g.ID] = g
			}
		}
	}

	seen := make(map[string]int, len(p.Grants.Customers))
	for i, g := range p.Grants.Customers {
		path := promotions.P("grants", "customers", i)
		if first, dup := seen[g.ID]; dup {
			add(promotions.CodeDuplicateGrant, path.Key("id"),
				"customer %s already appears in grants.customers[%d]", g.ID, first)
			continue
		}
		seen[g.ID] = i
		diags = append(diags, checkPeriods(p, path, "customer "+g.ID, g.Previous, promotions.Period{GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt})...)
		if deactivated && g.State == promotions.StateGranted {
			add(promotions.CodeDeactivatedWithGrants, path.Key("state"),
				"promotion %s is deactivated but customer %s is still granted (expected state revoked)", p.ID, g.ID)
		}
		if !m.HasDirectory {
			continue
		}
		c, known := m.Customers[g.ID]
		if !known && gaps.mayDefine(promotions.KindCustomers, g.ID) {
			continue
		}
		if !known {
			add(promotions.CodeUnknownCustomer, path.Key("id"), "customer %q is not in the customer directory", g.ID)
			continue
		}
		if _, planKnown := m.Plans[c.Plan]; !planKnown {
			continue // UNKNOWN_PLAN on the customer says it all
		}
		if g.State != promotions.StateGranted || p.Eligibility.Allows(c.Plan, c) {
			continue
		}
		msg := "customer %s is not eligible for %s (plan %s, attributes %v; eligibility %s)"
		args := []any{c.ID, p.ID, c.Plan, c.Attributes, p.Eligibility.String()}
		if old, ok := baseGrants[g.ID]; ok && old.State == promotions.StateGranted && old.GrantedAt.Equal(g.GrantedAt) {
			diags = append(diags, promotions.WarningAt(promotions.CodeIneligibleCustomer, p.File, path.Key("id"),
				msg+"; the grant predates this change and no longer contributes", args...))
			continue
		}
		add(promotions.CodeIneligibleCustomer, path.Key("id"), msg, args...)
	}
	return diags
}

// checkPeriods checks a grant's periods (previous, then the current one at
// path): each starts inside the window and is not revoked before it starts,
// and each starts no earlier than the one before it ends (by its natural
// end or revoked_at). It allocates nothing for a grant without history:
// it runs for every grant of the repo.
func checkPeriods(p *promotions.Promotion, path promotions.Path, who string, previous []promotions.Period, current promotions.Period) promotions.Diagnostics {
	var diags promotions.Diagnostics
	var prevEnd *time.Time
	for i := 0; i <= len(previous); i++ {
		per, at := current, path
		if i < len(previous) {
			per, at = previous[i], path.Key("previous").Index(i)
		}
		if bad := outOfRange(p, at, per); bad != nil {
			// Nothing else can be said of an instant that is already wrong.
			diags = append(diags, *bad)
			return diags
		}
		if !p.Window.Contains(per.GrantedAt) {
			diags = append(diags, promotions.ErrorAt(promotions.CodeGrantOutsideWindow, p.File, at.Key("granted_at"),
				"granted_at %s is outside the window %s%s", ts(per.GrantedAt), p.Window.String(), renewHint(i)))
		}
		if per.RevokedAt != nil && per.RevokedAt.Before(per.GrantedAt) {
			diags = append(diags, promotions.ErrorAt(promotions.CodeInvalidGrantTimes, p.File, at.Key("revoked_at"),
				"revoked_at %s is before granted_at %s", ts(*per.RevokedAt), ts(per.GrantedAt)))
		}
		if i > 0 {
			switch {
			case prevEnd == nil:
				diags = append(diags, promotions.ErrorAt(promotions.CodeInvalidGrantTimes, p.File, at.Key("granted_at"),
					"period %d of %s starts at %s but period %d never ends (expected it to expire or be revoked first)",
					i+1, who, ts(per.GrantedAt), i))
			case per.GrantedAt.Before(*prevEnd):
				diags = append(diags, promotions.ErrorAt(promotions.CodeInvalidGrantTimes, p.File, at.Key("granted_at"),
					"period %d of %s starts at %s, before period %d ends at %s: periods are in order and do not overlap",
					i+1, who, ts(per.GrantedAt), i, ts(*prevEnd)))
			}
		}
		if i < len(previous) {
			prevEnd = p.GrantEnd(per.GrantedAt)
			if per.RevokedAt != nil && (prevEnd == nil || per.RevokedAt.Before(*prevEnd)) {
				prevEnd = per.RevokedAt
			}
		}
	}
	return diags
}

func renewHint(period int) string {
	if period == 0 {
		return ""
	}
	return "; renewing after the window closed needs a new promotion"
}

const outOfRangeMsg = "%s is %s in UTC, outside the years 0001 to 9999 that promoctl accepts"

// outOfRange reports a period whose granted_at or revoked_at lies outside
// the years 0001–9999 (UTC), or whose duration would end it after 9999
// (docs/rules.md, "Time").
func outOfRange(p *promotions.Promotion, at promotions.Path, per promotions.Period) *promotions.Diagnostic {
	if !promotions.InRange(per.GrantedAt) {
		d := promotions.ErrorAt(promotions.CodeInvalidGrantTimes, p.File, at.Key("granted_at"), outOfRangeMsg, "granted_at", ts(per.GrantedAt))
		return &d
	}
	if per.RevokedAt != nil && !promotions.InRange(*per.RevokedAt) {
		d := promotions.ErrorAt(promotions.CodeInvalidGrantTimes, p.File, at.Key("revoked_at"), outOfRangeMsg, "revoked_at", ts(*per.RevokedAt))
		return &d
	}
	if grantEndsAfterRange(p, per.GrantedAt) {
		d := promotions.ErrorAt(promotions.CodeInvalidGrantTimes, p.File, at.Key("granted_at"),
			"a grant from %s lasting %s would end after the year 9999", ts(per.GrantedAt), p.Duration.Unit.Quantity(p.Duration.Value))
		return &d
	}
	return nil
}

// grantEndsAfterRange reports whether a grant made at grantedAt ends past
// promotions.MaxTime. The end is computed only for grants close enough to
// the end of the range for their duration to carry them past it: this
// runs for every grant of the repo.
func grantEndsAfterRange(p *promotions.Promotion, grantedAt time.Time) bool {
	if p.Duration == nil {
		return false
	}
	const day = 24 * 60 * 60
	var perUnit int64
	switch p.Duration.Unit {
	case promotions.UnitDays:
		perUnit = day
	case promotions.UnitWeeks:
		perUnit = 7 * day
	case promotions.UnitMonths:
		perUnit = 31 * day
	default:
		perUnit = 366 * day
	}
	span := perUnit * int64(min(p.Duration.Value, 1<<32))
	if grantedAt.Unix() <= promotions.MaxTime.Unix()-span {
		return false
	}
	return !promotions.InRange(*p.GrantEnd(grantedAt))
}

func ts(t time.Time) string { return t.UTC().Format(time.RFC3339) }
