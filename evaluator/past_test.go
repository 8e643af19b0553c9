package evaluator_test

import (
	"testing"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// FuzzEditKeepsThePast checks the promise that decisions about the past
// never change: on a random model, an edit made at instant T the way the
// apply flow makes it — renew or re-grant an ended entry (a new period),
// grant a new entry, revoke an active period, revoke a scheduled one
// (revoked_at = granted_at), add a revoke exception to an active
// grants.all, or deactivate the promotion — leaves every decision at
// every instant before T as it was: access, allowance, reset and the
// contributing sources. valid_until may move earlier — it is a forecast,
// and a revocation at T is news about the future.
func FuzzEditKeepsThePast(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("\x05\x01\x02\x00\x03\x01\x01\x02\x01\x03\x01\x02\x02\x04\x01\x00\x01\x03\x05\x02\x01\x01\x04\x09\x09"))
	f.Add([]byte("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0\xef\xee\xed\xec\x07\x03"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &choices{data: data}
		m := randomModel(c)
		before, err := snapshot.Build(m, "before")
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		edited, what := editAt(c, m)
		if edited == nil {
			return
		}
		after, err := snapshot.Build(edited.model, "after")
		if err != nil {
			t.Fatalf("build: %v", err)
		}
		for h := 0; h < 72; h++ {
			at := fuzzEpoch.Add(time.Duration(h) * time.Hour)
			if !at.Before(edited.at) {
				break
			}
			for _, customer := range fuzzCustomers {
				for _, feature := range []string{"flag", "meter"} {
					q := evaluator.Query{Customer: customer, Feature: feature, At: at}
					d1, err1 := evaluator.Decide(before, q)
					d2, err2 := evaluator.Decide(after, q)
					if err1 != nil || err2 != nil {
						t.Fatalf("decide: %v, %v", err1, err2)
					}
					if d1.HasAccess != d2.HasAccess || d1.Allowance != d2.Allowance || d1.Reset != d2.Reset ||
						sourceIDs(d1) != sourceIDs(d2) {
						t.Fatalf("%s at %s changed the decision at %s for %s/%s:\nbefore %+v\nafter  %+v",
							what, edited.at, at, customer, feature, d1, d2)
					}
				}
			}
		}
	})
}

type edit struct {
	model *promotions.Model
	at    time.Time
}

// editAt makes one apply-flow edit at a random instant on a copy of m.
func editAt(c *choices, m *promotions.Model) (*edit, string) {
	ids := promotions.SortedKeys(m.Promotions)
	if len(ids) == 0 {
		return nil, ""
	}
	orig := m.Promotions[ids[c.next(len(ids))]]
	p := clonePromotion(orig)
	at := instant(c)
	if p.DeactivatedAt != nil && !at.Before(*p.DeactivatedAt) {
		return nil, "" // the apply flow refuses to edit a deactivated promotion
	}
	var what string
	switch c.next(3) {
	case 0: // deactivate
		what = "deactivate " + p.ID
		p.Status, p.DeactivatedAt = promotions.StatusDeactivated, &at
		for i := range p.Grants.Customers {
			g := &p.Grants.Customers[i]
			if g.State == promotions.StateGranted {
				g.State, g.RevokedAt = promotions.StateRevoked, revokeAt(p, g.GrantedAt, at)
			}
		}
		if a := p.Grants.All; a != nil && a.RevokedAt == nil {
			a.RevokedAt = revokeAt(p, a.GrantedAt, at)
		}
	case 1: // grant, renew, re-grant or revoke one customer
		id := fuzzCustomers[c.next(len(fuzzCustomers))]
		idx := -1
		for i, g := range p.Grants.Customers {
			if g.ID == id {
				idx = i
			}
		}
		if idx < 0 {
			all := p.Grants.All
			if all != nil && p.EffectiveAt(all.Periods(), at).State == promotions.EffectiveActive && c.next(2) == 0 {
				what = "revoke exception to grants.all for " + id
				p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{ID: id, State: promotions.StateRevoked,
					GrantedAt: all.GrantedAt, RevokedAt: ptr(at)})
			} else {
				what = "grant " + id
				p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{ID: id, State: promotions.StateGranted, GrantedAt: at})
			}
			break
		}
		g := &p.Grants.Customers[idx]
		switch p.EffectiveAt(g.Periods(), at).State {
		case promotions.EffectiveActive:
			what = "revoke active " + id
			g.State, g.RevokedAt = promotions.StateRevoked, ptr(at)
		case promotions.EffectiveScheduled:
			if g.GrantedAt.After(at) {
				what = "revoke scheduled " + id
				g.State, g.RevokedAt = promotions.StateRevoked, ptr(g.GrantedAt)
			} else {
				return nil, "" // a gap before an earlier period: not an apply-flow case
			}
		default:
			if g.RevokedAt != nil && at.Before(*g.RevokedAt) {
				return nil, "" // --at before the end of the last period is refused
			}
			if end := p.GrantEnd(g.GrantedAt); end != nil && at.Before(*end) && g.RevokedAt == nil {
				return nil, ""
			}
			what = "renew or re-grant " + id
			g.Previous = append(g.Previous, promotions.Period{GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt})
			g.State, g.GrantedAt, g.RevokedAt = promotions.StateGranted, at, nil
		}
	default: // renew or re-grant grants.all
		all := p.Grants.All
		if all == nil {
			what = "grant all"
			p.Grants.All = &promotions.AllGrant{GrantedAt: at}
			break
		}
		if p.EffectiveAt(all.Periods(), at).State != promotions.EffectiveExpired && p.EffectiveAt(all.Periods(), at).State != promotions.EffectiveRevoked {
			return nil, ""
		}
		if all.RevokedAt != nil && at.Before(*all.RevokedAt) {
			return nil, ""
		}
		what = "renew grants.all"
		all.Previous = append(all.Previous, promotions.Period{GrantedAt: all.GrantedAt, RevokedAt: all.RevokedAt})
		all.GrantedAt, all.RevokedAt = at, nil
	}
	cp := *m
	cp.Promotions = make(map[string]*promotions.Promotion, len(m.Promotions))
	for id, q := range m.Promotions {
		cp.Promotions[id] = q
	}
	cp.Promotions[p.ID] = p
	return &edit{model: &cp, at: at}, what
}

// revokeAt is the revoked_at deactivation stamps on a period: at, or its
// granted_at when it had not started yet.
func revokeAt(p *promotions.Promotion, grantedAt, at time.Time) *time.Time {
	if grantedAt.After(at) {
		return ptr(grantedAt)
	}
	return ptr(at)
}

func clonePromotion(p *promotions.Promotion) *promotions.Promotion {
	cp := *p
	cp.Grants.Customers = make([]promotions.CustomerGrant, len(p.Grants.Customers))
	for i, g := range p.Grants.Customers {
		g.Previous = append([]promotions.Period(nil), g.Previous...)
		cp.Grants.Customers[i] = g
	}
	if p.Grants.All != nil {
		a := *p.Grants.All
		a.Previous = append([]promotions.Period(nil), a.Previous...)
		cp.Grants.All = &a
	}
	return &cp
}

func sourceIDs(d evaluator.Decision) string {
	out := ""
	for _, s := range d.Sources {
		out += string(s.Kind) + ":" + s.ID + ":" + s.GrantedAt.String() + ":" + d.ReplacedBy(s) + ","
	}
	return out
}
