package console

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// customerPromotion is one promotion that names a customer or covers them
// through grants.all.
type customerPromotion struct {
	P         *promotions.Promotion
	Via       string // "entry" or "all"
	State     promotions.GrantState
	GrantedAt time.Time
	Ends      *time.Time
	RevokedAt *time.Time
	Eligible  bool
}

type customerData struct {
	ID         string
	Customer   *promotions.Customer
	Known      bool
	At         time.Time
	AtInput    string
	AtError    string
	Promotions []customerPromotion
	Decisions  []evaluator.Decision
	DecideErr  string
}

// customerLookup sends the header's lookup box to the customer's page.
func (s *Server) customerLookup(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimSpace(r.URL.Query().Get("id"))
	if id == "" {
		s.fail(w, r, http.StatusBadRequest, "Enter a customer id.")
		return
	}
	http.Redirect(w, r, link("/customers/"+url.PathEscape(id), "branch", r.URL.Query().Get("branch")), http.StatusSeeOther)
}

// customerPage is the support view: the directory record, every promotion
// that names the customer or covers them through grants.all, and the
// decision for every feature at the chosen instant with its sources.
// TODO(effective state, why-not, history): effective state per entry, the
// reasons other promotions do not contribute and the customer's history
// come with the grant-period and history libraries.
func (s *Server) customerPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	branch, v, ok := s.compiledView(w, r, q.Get("branch"))
	if !ok {
		return
	}
	id := r.PathValue("id")
	d := customerData{ID: id, At: s.now(), AtInput: q.Get("at")}
	if d.AtInput != "" {
		if t, err := parseDateInput(d.AtInput); err == nil {
			d.At = t
		} else {
			d.AtError = "Enter a date (2026-04-25) or a date-time (2026-04-25T12:00:00Z)."
		}
	}
	d.Customer, d.Known = v.model.Customers[id]
	for _, p := range v.model.SortedPromotions() {
		row, ok := customerInPromotion(p, d.Customer, id)
		if ok {
			d.Promotions = append(d.Promotions, row)
		}
	}
	if v.model.HasDirectory && !d.Known && len(d.Promotions) == 0 {
		s.fail(w, r, http.StatusNotFound, "No customer "+id+" in the directory, and no promotion names them.")
		return
	}
	snap, err := v.snapshot()
	if err != nil {
		d.DecideErr = err.Error()
	} else {
		for _, f := range sortedFeatures(v.model, "") {
			dec, err := evaluator.Decide(snap, evaluator.Query{Customer: id, Feature: f.Key, At: d.At})
			if err != nil {
				d.DecideErr = err.Error()
				break
			}
			d.Decisions = append(d.Decisions, dec)
		}
	}
	s.render(w, r, http.StatusOK, "customer", page{Title: "Customer " + id, Section: "customers", Branch: branch, Commit: v.commit.String(), Data: d})
}

func customerInPromotion(p *promotions.Promotion, c *promotions.Customer, id string) (customerPromotion, bool) {
	eligible := c == nil || p.Eligibility.Allows(c.Plan, c)
	for _, g := range p.Grants.Customers {
		if g.ID == id {
			return customerPromotion{P: p, Via: "entry", State: g.State, GrantedAt: g.GrantedAt, Ends: p.GrantEnd(g.GrantedAt),
				RevokedAt: g.RevokedAt, Eligible: eligible}, true
		}
	}
	if a := p.Grants.All; a != nil && c != nil && eligible {
		state := promotions.StateGranted
		if a.RevokedAt != nil {
			state = promotions.StateRevoked
		}
		return customerPromotion{P: p, Via: "all", State: state, GrantedAt: a.GrantedAt, Ends: p.GrantEnd(a.GrantedAt),
			RevokedAt: a.RevokedAt, Eligible: true}, true
	}
	return customerPromotion{}, false
}
