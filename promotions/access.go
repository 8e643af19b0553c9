package promotions

import (
	"sort"
	"time"
)

// Access is one row of a promotion's "Manage access" list.
type Access struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Email     string     `json:"email"`
	State     GrantState `json:"state"`
	GrantedAt time.Time  `json:"granted_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	// Via says where the state comes from: "customers" (an entry of
	// grants.customers) or "all" (grants.all, for an eligible customer of
	// the directory without an entry).
	Via string `json:"via"`
}

// AccessList lists who holds or held promotion p, sorted by customer id:
// every entry of grants.customers, and — when a directory is known — every
// eligible customer covered by grants.all without an entry of their own.
func AccessList(p *Promotion, customers map[string]*Customer) []Access {
	var out []Access
	seen := make(map[string]bool, len(p.Grants.Customers))
	for _, g := range p.Grants.Customers {
		if seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		row := Access{ID: g.ID, State: g.State, GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt, Via: "customers"}
		if c, ok := customers[g.ID]; ok {
			row.Name, row.Email = c.Name, c.Email
		}
		out = append(out, row)
	}
	if all := p.Grants.All; all != nil {
		state := StateGranted
		if all.RevokedAt != nil {
			state = StateRevoked
		}
		for id, c := range customers {
			if seen[id] || !p.Eligibility.Allows(c.Plan, c) {
				continue
			}
			out = append(out, Access{ID: id, Name: c.Name, Email: c.Email, State: state,
				GrantedAt: all.GrantedAt, RevokedAt: all.RevokedAt, Via: "all"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Matches is the Access form of Customer.Matches.
func (r Access) Matches(query string) bool { return MatchesQuery(query, r.ID, r.Name, r.Email) }
