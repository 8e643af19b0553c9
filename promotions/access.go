package promotions

import (
	"sort"
	"time"
)

// Access is one row of a promotion's "Manage access" list: a customer, the
// state stored in the file and what it amounts to at the listing's instant.
type Access struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Email     string         `json:"email"`
	State     GrantState     `json:"state"`
	Effective EffectiveState `json:"effective"`
	// Eligible is by the current directory; a customer the directory does
	// not know (or a repo without one) counts as eligible, since the caller
	// supplies plan and attributes at query time.
	Eligible  bool         `json:"eligible"`
	Via       Via          `json:"via"`
	GrantedAt time.Time    `json:"granted_at"`
	EndsAt    *time.Time   `json:"ends_at"`
	RevokedAt *time.Time   `json:"revoked_at"`
	Periods   []PeriodView `json:"periods"`
}

// PeriodView is a period as listings show it, with its resolved end.
type PeriodView struct {
	GrantedAt time.Time  `json:"granted_at"`
	EndsAt    *time.Time `json:"ends_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// PeriodViews resolves periods for a listing.
func (p *Promotion) PeriodViews(periods []Period) []PeriodView {
	out := make([]PeriodView, len(periods))
	for i, per := range periods {
		out[i] = PeriodView{GrantedAt: per.GrantedAt, EndsAt: p.Span(per).End, RevokedAt: per.RevokedAt}
	}
	return out
}

// AccessList lists who holds or held promotion p at instant at, sorted by
// customer id: every entry of grants.customers, and — when a directory is
// known — every eligible customer covered by grants.all without an entry of
// their own. An entry whose first period starts after at is shown through
// grants.all when there is one, since grants.all decides for it until then.
func AccessList(p *Promotion, customers map[string]*Customer, at time.Time) []Access {
	var out []Access
	seen := make(map[string]bool, len(p.Grants.Customers))
	for i := range p.Grants.Customers {
		g := &p.Grants.Customers[i]
		if seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		c, known := customers[g.ID]
		eligible := !known || p.Eligibility.Allows(c.Plan, c)
		row, _ := p.AccessOf(g.ID, g, c, eligible, at)
		out = append(out, row)
	}
	if p.Grants.All != nil {
		for id, c := range customers {
			if seen[id] || !p.Eligibility.Allows(c.Plan, c) {
				continue
			}
			row, _ := p.AccessOf(id, nil, c, true, at)
			out = append(out, row)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// AccessOf is one customer's row of p's access list at instant at: from
// their entry (nil when they have none) or, before it starts or without
// one, from grants.all. c is their directory record (nil when unknown) and
// eligible says whether they may hold p. It reports false when neither an
// entry nor grants.all (for an eligible customer) concerns them.
func (p *Promotion) AccessOf(id string, entry *CustomerGrant, c *Customer, eligible bool, at time.Time) (Access, bool) {
	if entry == nil && (p.Grants.All == nil || !eligible) {
		return Access{}, false
	}
	row := Access{ID: id, Eligible: eligible}
	if c != nil {
		row.Name, row.Email = c.Name, c.Email
	}
	periods, via := p.Decider(entry, at)
	if via == ViaAll {
		row.State = allState(p.Grants.All)
	} else {
		row.State = entry.State
	}
	return p.fill(row, periods, via, at), true
}

// Entry returns the customer's entry of grants.customers, or nil.
func (p *Promotion) Entry(id string) *CustomerGrant {
	for i := range p.Grants.Customers {
		if p.Grants.Customers[i].ID == id {
			return &p.Grants.Customers[i]
		}
	}
	return nil
}

func allState(all *AllGrant) GrantState {
	if all.RevokedAt != nil {
		return StateRevoked
	}
	return StateGranted
}

func (p *Promotion) fill(row Access, periods []Period, via Via, at time.Time) Access {
	cur := periods[len(periods)-1]
	eff := p.EffectiveAt(periods, at)
	row.Via, row.Effective, row.EndsAt = via, eff.State, eff.EndsAt
	row.GrantedAt, row.RevokedAt = cur.GrantedAt, cur.RevokedAt
	row.Periods = p.PeriodViews(periods)
	return row
}

// Matches is the Access form of Customer.Matches.
func (r Access) Matches(query string) bool { return MatchesQuery(query, r.ID, r.Name, r.Email) }

// Listed reports whether a row passes the Manage-access filters: stored
// state filter "granted" means active or scheduled, "revoked" means revoked
// or expired (as in the console); effective filters one effective state.
func (r Access) Listed(state GrantState, effective EffectiveState) bool {
	switch state {
	case StateGranted:
		if r.Effective != EffectiveActive && r.Effective != EffectiveScheduled {
			return false
		}
	case StateRevoked:
		if r.Effective != EffectiveRevoked && r.Effective != EffectiveExpired {
			return false
		}
	}
	return effective == "" || r.Effective == effective
}

// EndingSoon is how far ahead a listing counts periods as ending soon.
const EndingSoon = 14 * 24 * time.Hour

// Summary is one promotion in a list of promotions, counted at an instant.
type Summary struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Feature     string      `json:"feature"`
	FeatureType FeatureType `json:"feature_type"`
	Mode        Mode        `json:"mode,omitempty"`
	Status      Status      `json:"status"`
	IsApplied   bool        `json:"is_applied"`
	Window      WindowView  `json:"window"`
	// Granted and Revoked count entries by stored state.
	Granted int `json:"granted"`
	Revoked int `json:"revoked"`
	// Counts counts entries by effective state; grants.all is in All.
	Counts     map[EffectiveState]int `json:"counts"`
	All        *Effective             `json:"all"`
	EndingSoon int                    `json:"ending_soon"`
}

// WindowView is a promo window in listings.
type WindowView struct {
	Start *time.Time `json:"start"`
	End   *time.Time `json:"end"`
}

// MarshalJSON is not needed for Effective's fields in most places, but the
// summary's grants.all is written with the field names of listings.
func (e Effective) MarshalJSON() ([]byte, error) {
	b := []byte(`{"effective":"` + string(e.State) + `","ends_at":`)
	if e.EndsAt == nil {
		return append(b, "null}"...), nil
	}
	return append(append(append(b, '"'), e.EndsAt.UTC().Format(time.RFC3339Nano)...), `"}`...), nil
}

// Summarize counts p's entries by effective state at t. Each entry counts
// by its own periods; grants.all is reported once, as All.
func (p *Promotion) Summarize(t time.Time) Summary {
	s := Summary{
		ID: p.ID, Name: p.Name, Feature: p.Feature, FeatureType: p.FeatureType, Status: p.Status,
		IsApplied: p.IsApplied, Window: WindowView{Start: p.Window.Start, End: p.Window.End},
		Counts: make(map[EffectiveState]int, len(EffectiveStates)),
	}
	if p.Metered != nil {
		s.Mode = p.Metered.Mode
	}
	for _, st := range EffectiveStates {
		s.Counts[st] = 0
	}
	soon := t.Add(EndingSoon)
	count := func(e Effective) {
		if e.State == EffectiveActive && e.EndsAt != nil && !e.EndsAt.After(soon) {
			s.EndingSoon++
		}
	}
	for i := range p.Grants.Customers {
		g := &p.Grants.Customers[i]
		if g.State == StateGranted {
			s.Granted++
		} else {
			s.Revoked++
		}
		e := p.EffectiveAt(g.Periods(), t)
		s.Counts[e.State]++
		count(e)
	}
	if all := p.Grants.All; all != nil {
		e := p.EffectiveAt(all.Periods(), t)
		s.All = &e
		count(e)
	}
	return s
}
