package compiler

import (
	"github.com/promoctl/promoctl/promotions"
)

// featureUsageLocks reports LOCKED_FIELD on a Feature whose usage block
// (overage, on_store_failure) changed while an applied promotion of the
// base is for that feature: how consumes are enforced is policy that live
// grants were given under, locked like a promotion's strategic fields.
// Presence counts: adding or removing the block is a change even when it
// spells the defaults.
func featureUsageLocks(base, head *promotions.Model) promotions.Diagnostics {
	applied := map[string]string{} // feature → an applied promotion for it
	for _, id := range promotions.SortedKeys(base.Promotions) {
		if p := base.Promotions[id]; p.IsApplied {
			if _, ok := applied[p.Feature]; !ok {
				applied[p.Feature] = id
			}
		}
	}
	var out promotions.Diagnostics
	for _, key := range promotions.SortedKeys(head.Features) {
		h, b := head.Features[key], base.Features[key]
		promo, locked := applied[key]
		if b == nil || !locked || sameUsage(b.Usage, h.Usage) {
			continue
		}
		out = append(out, promotions.ErrorAt(promotions.CodeLockedField, h.File, promotions.P("usage"),
			"usage is locked because %s is applied for feature %s (base %s, head %s): changing how consumes are enforced under live grants is a policy change; make a new feature instead",
			promo, key, usageText(b.Usage), usageText(h.Usage)))
	}
	return out
}

func sameUsage(a, b *promotions.FeatureUsage) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func usageText(u *promotions.FeatureUsage) string {
	if u == nil {
		return "absent"
	}
	s := "{"
	if u.Overage != "" {
		s += "overage: " + string(u.Overage)
	}
	if u.OnStoreFailure != "" {
		if len(s) > 1 {
			s += ", "
		}
		s += "on_store_failure: " + string(u.OnStoreFailure)
	}
	return s + "}"
}
