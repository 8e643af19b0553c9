package console

import (
	"fmt"
	"slices"
	"time"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// Typed template helpers: a template branches on the model's own types and
// constants, never on their printed form, so a renamed value fails to
// compile here instead of silently taking the other branch of a page.
var typedFuncs = map[string]any{
	"active":         isActive,
	"metered":        isMetered,
	"statusClass":    statusClass,
	"stateClass":     stateClass,
	"effectiveClass": effectiveClass,
	"reasonClass":    reasonClass,
	"count":          countByEffective,
	"via":            viaText,
	"reasonText":     reasonText,
	"ended":          grantEnd,
	"closes":         closesText,
	"starts":         func(id, date string) startsField { return startsField{ID: id, Date: date} },
}

// reasonText says why a promotion does not contribute, in words.
func reasonText(r evaluator.Reason) string {
	switch r {
	case evaluator.ReasonNotEligible:
		return "not eligible"
	case evaluator.ReasonNotGranted:
		return "not granted"
	case evaluator.ReasonOverriddenByEntry:
		return "their own grant decides"
	}
	return string(r)
}

// viaText names how a customer holds a promotion in the operator's words.
func viaText(v promotions.Via) string {
	if v == promotions.ViaAll {
		return "everyone eligible"
	}
	return "own grant"
}

// grantEnd is when a listed grant ends or ended: the end of the period
// that holds now (or the next one), else when the last one ended (its
// natural end or its revocation, whichever came first); nil for a grant
// that never ends.
func grantEnd(a promotions.Access) *time.Time {
	if a.EndsAt != nil || len(a.Periods) == 0 {
		return a.EndsAt
	}
	last := a.Periods[len(a.Periods)-1]
	if last.RevokedAt != nil && (last.EndsAt == nil || last.RevokedAt.Before(*last.EndsAt)) {
		return last.RevokedAt
	}
	return last.EndsAt
}

// closesText says when a window closes, or that it closed, as a date.
func closesText(end time.Time, now time.Time) string {
	if end.After(now) {
		return "closes on " + formatDate(end) + ", " + relative(end, now)
	}
	return "closed on " + formatDate(end)
}

// isActive says whether a promotion may be granted (not deactivated).
func isActive(s promotions.Status) bool { return s == promotions.StatusActive }

// isMetered says whether a feature has an allowance.
func isMetered(t promotions.FeatureType) bool { return t == promotions.FeatureMetered }

// statusClass is the badge of a promotion's status.
func statusClass(s promotions.Status) string {
	if isActive(s) {
		return "ok"
	}
	return "off"
}

// stateClass is the badge of a grant's stored state.
func stateClass(s promotions.GrantState) string {
	switch s {
	case promotions.StateGranted:
		return "ok"
	case promotions.StateRevoked:
		return "bad"
	}
	return "off"
}

// effectiveClass is the badge of a grant's effective state.
func effectiveClass(s promotions.EffectiveState) string {
	switch s {
	case promotions.EffectiveActive:
		return "ok"
	case promotions.EffectiveScheduled:
		return "lock"
	case promotions.EffectiveRevoked:
		return "bad"
	}
	return "off"
}

// reasonClass is the badge of why a promotion does not contribute.
func reasonClass(r evaluator.Reason) string {
	switch r {
	case evaluator.ReasonScheduled:
		return "lock"
	case evaluator.ReasonRevoked:
		return "bad"
	case evaluator.ReasonNotEligible:
		return "warn"
	}
	return "off"
}

// countByEffective reads a count by effective state ("active", …); a
// state that does not exist is an error, not a silent 0.
func countByEffective(m map[promotions.EffectiveState]int, state string) (int, error) {
	s := promotions.EffectiveState(state)
	if !slices.Contains(promotions.EffectiveStates, s) {
		return 0, fmt.Errorf("count: no effective state %q", state)
	}
	return m[s], nil
}
