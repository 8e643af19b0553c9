package promotions

import "time"

// A grant — a customer's entry or grants.all — is a sequence of periods:
// its earlier periods (Previous, oldest first), then the current one. A
// renewal or re-grant starts a new period and keeps the ended one as it
// was, so that a decision about an instant before the change never changes
// (docs/apply-flow.md, "Grant periods").

// Period is one span of a grant as written in the file.
type Period struct {
	GrantedAt time.Time
	RevokedAt *time.Time
}

// Periods returns the entry's periods, oldest first.
func (g *CustomerGrant) Periods() []Period {
	return appendCurrent(g.Previous, g.GrantedAt, g.RevokedAt)
}

// FirstGrantedAt is when the entry starts deciding for its customer.
func (g *CustomerGrant) FirstGrantedAt() time.Time {
	if len(g.Previous) > 0 {
		return g.Previous[0].GrantedAt
	}
	return g.GrantedAt
}

// Periods returns grants.all's periods, oldest first.
func (g *AllGrant) Periods() []Period {
	return appendCurrent(g.Previous, g.GrantedAt, g.RevokedAt)
}

func appendCurrent(previous []Period, grantedAt time.Time, revokedAt *time.Time) []Period {
	out := make([]Period, 0, len(previous)+1)
	out = append(out, previous...)
	return append(out, Period{GrantedAt: grantedAt, RevokedAt: revokedAt})
}

// EffectiveState is what a grant amounts to at an instant, as opposed to
// the state stored in the file.
type EffectiveState string

const (
	EffectiveActive    EffectiveState = "active"    // a period holds the instant
	EffectiveScheduled EffectiveState = "scheduled" // the next period starts later
	EffectiveExpired   EffectiveState = "expired"   // the last period reached its natural end
	EffectiveRevoked   EffectiveState = "revoked"   // the last period was cut short by a revocation
)

// EffectiveStates lists the effective states in the order listings count them.
var EffectiveStates = []EffectiveState{EffectiveActive, EffectiveScheduled, EffectiveExpired, EffectiveRevoked}

// Via says which grant decides for a customer.
type Via string

const (
	ViaEntry Via = "entry" // the customer's own entry of grants.customers
	ViaAll   Via = "all"   // grants.all
)

// Span is a period resolved against its promotion: it holds [Start, End),
// End nil meaning forever. Revoked says the period ended by its revoked_at
// or by the promotion's deactivation before its natural end.
type Span struct {
	Start   time.Time
	End     *time.Time
	Revoked bool
}

// Holds reports whether the span holds t.
func (s Span) Holds(t time.Time) bool {
	return !t.Before(s.Start) && (s.End == nil || t.Before(*s.End))
}

// Empty reports whether the span holds no instant (revoked before it began).
func (s Span) Empty() bool { return s.End != nil && !s.End.After(s.Start) }

// Span resolves a period: it ends at the earliest of its natural end
// (granted_at + duration), its revoked_at and the promotion's
// deactivated_at, and never before it starts.
func (p *Promotion) Span(per Period) Span {
	s := Span{Start: per.GrantedAt, End: p.GrantEnd(per.GrantedAt)}
	cut := per.RevokedAt
	if p.DeactivatedAt != nil && (cut == nil || p.DeactivatedAt.Before(*cut)) {
		cut = p.DeactivatedAt
	}
	if cut != nil && (s.End == nil || cut.Before(*s.End)) {
		end := *cut
		if end.Before(s.Start) {
			end = s.Start
		}
		s.End, s.Revoked = &end, true
	}
	return s
}

// Spans resolves every period.
func (p *Promotion) Spans(periods []Period) []Span {
	out := make([]Span, len(periods))
	for i, per := range periods {
		out[i] = p.Span(per)
	}
	return out
}

// Effective is a grant's effective state at an instant. EndsAt is the end
// of the period that holds the instant, else of the next one (nil when that
// period never ends or when there is none).
type Effective struct {
	State  EffectiveState
	EndsAt *time.Time
}

// EffectiveAt is the effective state at t of a grant with these periods.
func (p *Promotion) EffectiveAt(periods []Period, t time.Time) Effective {
	var last Span
	for _, per := range periods {
		s := p.Span(per)
		switch {
		case s.Holds(t):
			return Effective{State: EffectiveActive, EndsAt: s.End}
		case t.Before(s.Start) && !s.Empty():
			return Effective{State: EffectiveScheduled, EndsAt: s.End}
		}
		last = s
	}
	if last.Revoked {
		return Effective{State: EffectiveRevoked}
	}
	return Effective{State: EffectiveExpired}
}

// Decider says which grant of p decides for a customer at t: their entry
// (nil when they have none) from its first granted_at on, before that
// grants.all. It returns nil periods when neither exists; a customer with
// an entry and no grants.all is decided by the entry even before it starts
// (it is then scheduled).
func (p *Promotion) Decider(entry *CustomerGrant, t time.Time) ([]Period, Via) {
	if entry != nil && (p.Grants.All == nil || !t.Before(entry.FirstGrantedAt())) {
		return entry.Periods(), ViaEntry
	}
	if p.Grants.All != nil {
		return p.Grants.All.Periods(), ViaAll
	}
	return nil, ""
}
