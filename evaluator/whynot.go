package evaluator

import (
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

// whyNot lists, for every promotion of the feature that does not
// contribute at t, the first reason that applies: deactivated, not
// eligible (with the rule), not granted, then the state of the grant that
// decides — except that when the customer's entry decides, gives nothing
// and grants.all would give the promotion, the reason is
// overridden_by_entry: that is what the operator has to change. It runs
// only when a query asks for it, off the hot path.
func whyNot(r snapshot.Reader, feature *snapshot.FeatureRow, who *subject, entries []*snapshot.GrantRow, contributing []contribution, t int64) []NotContributing {
	out := []NotContributing{}
	for _, p := range r.PromotionsFor(feature.Key) {
		if contributes(contributing, p) {
			continue
		}
		out = append(out, reasonFor(p, who, entryOf(entries, p), allOf(feature, p), t))
	}
	return out
}

// Why is the why-not of a promotion as every printer words it: the
// reason, the rule that failed in parentheses, and the detail —
// "not_eligible (plans): plan starter is not one of growth". `explain`
// and `customer show` print it after the promotion's id.
func (nc NotContributing) Why() string {
	reason := string(nc.Reason)
	if nc.Rule != "" {
		reason += " (" + nc.Rule + ")"
	}
	return reason + ": " + nc.Detail
}

func contributes(contributing []contribution, p *snapshot.PromotionRow) bool {
	for _, c := range contributing {
		if c.promo == p {
			return true
		}
	}
	return false
}

func entryOf(entries []*snapshot.GrantRow, p *snapshot.PromotionRow) *snapshot.GrantRow {
	for _, g := range entries {
		if g.Promotion == p {
			return g
		}
	}
	return nil
}

func allOf(f *snapshot.FeatureRow, p *snapshot.PromotionRow) *snapshot.AllGrantRow {
	for _, g := range f.AllGrants {
		if g.Promotion == p {
			return g
		}
	}
	return nil
}

func reasonFor(p *snapshot.PromotionRow, who *subject, entry *snapshot.GrantRow, all *snapshot.AllGrantRow, t int64) NotContributing {
	nc := NotContributing{ID: p.ID}
	if d := p.DeactivatedAt; d != nil && t >= snapshot.Micros(*d) {
		nc.Reason, nc.Detail = ReasonDeactivated, "deactivated at "+stamp(snapshot.Micros(*d))
		return nc
	}
	if rule, detail := p.Eligibility.FailedRule(who.plan, who); rule != "" {
		nc.Reason, nc.Rule, nc.Detail = ReasonNotEligible, rule, detail
		return nc
	}
	var (
		from, until int64
		earlier     *[]snapshot.Span
		what        string
	)
	switch {
	case entry != nil && (all == nil || entry.First() <= t):
		from, until, earlier, what = entry.GrantedAt, entry.Until, entry.Earlier, "the customer's entry"
		if all != nil {
			if _, ok := all.Holding(t); ok {
				nc.Reason = ReasonOverriddenByEntry
				nc.Detail = "grants.all would give it, but the customer's entry decides since " + stamp(entry.First()) +
					" and is " + string(periodState(p, from, until, earlier, t)) + " at this instant"
				return nc
			}
		}
	case all != nil:
		from, until, earlier, what = all.GrantedAt, all.Until, all.Earlier, "grants.all"
	default:
		nc.Reason, nc.Detail = ReasonNotGranted, "the customer has no entry and the promotion has no grants.all"
		return nc
	}
	switch periodState(p, from, until, earlier, t) {
	case promotions.EffectiveScheduled:
		next := from
		if earlier != nil {
			for _, s := range *earlier {
				if s.From > t {
					next = s.From
					break
				}
			}
		}
		nc.Reason, nc.Detail = ReasonScheduled, what+" starts at "+stamp(next)
	case promotions.EffectiveExpired:
		nc.Reason, nc.Detail = ReasonExpired, what+" expired at "+stamp(until)
	default:
		nc.Reason, nc.Detail = ReasonRevoked, what+" was revoked at "+stamp(until)
	}
	return nc
}

// periodState is the effective state at t of a grant that does not hold
// it: scheduled when a period starts later, else expired or revoked by how
// its last period ended (a revocation before its natural end, or the
// promotion's deactivation, counts as revoked).
func periodState(p *snapshot.PromotionRow, from, until int64, earlier *[]snapshot.Span, t int64) promotions.EffectiveState {
	if from > t && until > from {
		return promotions.EffectiveScheduled
	}
	if earlier != nil {
		for _, s := range *earlier {
			if s.From > t && s.Until > s.From {
				return promotions.EffectiveScheduled
			}
		}
	}
	if end := p.GrantEnd(snapshot.TimeOf(from)); end != nil && snapshot.Micros(*end) <= until {
		return promotions.EffectiveExpired
	}
	return promotions.EffectiveRevoked
}

func stamp(us int64) string { return snapshot.TimeOf(us).Format(time.RFC3339) }
