package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// customersPerPage bounds the Customers and Manage access tables.
const customersPerPage = 50

// Filters of the Customers section and of Manage access.
const (
	filterGranted = "granted"
	filterRevoked = "revoked"
)

// accessData is a page of a promotion's customers.
type accessData struct {
	P      *promotions.Promotion
	Blob   string
	Filter string
	Query  string
	Rows   []promotions.Access
	// Matching is how many customers the filter and search select (all
	// pages): "all N matching".
	Matching int
	// Granted (active or scheduled) and Revoked (revoked or expired)
	// count the promotion's customers as the filters select them.
	Granted int
	Revoked int
	Pager   pager
	Where   destination
	// GrantBlocked says why nothing can be granted (deactivated, the
	// window closed): no Grant is offered then.
	GrantBlocked string
	Starts       startsField
}

// filterAccess selects a promotion's customers by filter and search
// (case-insensitive, in id, name and email). The filters go by effective
// state (docs/console.md): Granted is active or scheduled, Revoked is
// revoked or expired, so a bulk Grant in the Revoked view renews expired
// grants too.
func filterAccess(l *accessList, filter, query string) []promotions.Access {
	q := strings.ToLower(strings.TrimSpace(query))
	state := promotions.GrantState("")
	switch filter {
	case filterGranted:
		state = promotions.StateGranted
	case filterRevoked:
		state = promotions.StateRevoked
	}
	var out []promotions.Access
	for i := range l.rows {
		if !l.rows[i].Listed(state, "") || !l.keys.matches(i, q) {
			continue
		}
		out = append(out, l.rows[i])
	}
	return out
}

// holding reports whether a row is under the Granted filter (a Revoke
// applies to it) rather than Revoked (a Grant renews or re-grants it).
func holding(a promotions.Access) bool { return a.Listed(promotions.StateGranted, "") }

func (s *Server) accessData(r *http.Request, v *view, p *promotions.Promotion, filter string, at time.Time) accessData {
	q := r.URL.Query()
	d := accessData{P: p, Filter: filter, Query: strings.TrimSpace(q.Get("q"))}
	all := v.accessList(p, at)
	for _, row := range all.rows {
		if holding(row) {
			d.Granted++
		} else {
			d.Revoked++
		}
	}
	rows := filterAccess(all, filter, d.Query)
	d.Matching = len(rows)
	d.Pager = newPager(r, len(rows), customersPerPage)
	d.Rows = rows[d.Pager.From:d.Pager.To]
	return d
}

func (s *Server) accessPage(w http.ResponseWriter, r *http.Request) {
	branch, v, p, blob, ok := s.promotionView(w, r, r.URL.Query().Get("branch"))
	if !ok {
		return
	}
	filter := r.URL.Query().Get("state")
	if filter != filterRevoked {
		filter = filterGranted
	}
	d := s.accessData(r, v, p, filter, s.now())
	d.Blob, d.Where = blob, s.destination(branch, p.File, blob)
	d.GrantBlocked, d.Starts.Date = grantOffer(p, s.now())
	d.Starts.ID = "bulk"
	s.render(w, r, http.StatusOK, "access", page{Title: "Manage access · " + p.Name, Section: "promotions", Branch: branch, Commit: v.commit.String(), Data: d})
}
