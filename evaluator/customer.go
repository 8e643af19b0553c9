package evaluator

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

// ErrCustomerNotFound is returned for a customer the directory does not
// know and no promotion names.
var ErrCustomerNotFound = errors.New("customer not found")

// CustomerView is the support view of one customer: the directory record,
// every promotion that names them or covers them through grants.all with
// its stored and effective state and periods, and the decision for every
// feature at an instant (with the why-not list).
type CustomerView struct {
	Customer *promotions.Customer
	// Directory says the repo has a customer directory, Known whether it
	// knows the customer.
	Directory, Known bool
	At               time.Time
	Promotions       []CustomerPromotion
	Decisions        []Decision
}

// CustomerPromotion is one promotion of a customer view.
type CustomerPromotion struct {
	ID      string
	Name    string
	Feature string
	promotions.Access
}

// ViewCustomer builds the support view of q.Customer at q.At; q's plan and
// attributes stand in for the directory's, as in a decision. It looks the
// customer's grants up feature by feature (off its entry in the customers tree)
// and reads grants.all from each feature's row: no scan of the grants.
func ViewCustomer(s *snapshot.Snapshot, q Query) (CustomerView, error) {
	r := s.Read()
	v := CustomerView{Directory: s.Model != nil && s.Model.HasDirectory, At: q.At}
	who := &subject{plan: q.Plan, overrides: q.Attributes}
	if c := r.Customer(q.Customer); c != nil {
		v.Customer, v.Known, who.customer = c.Customer, true, c
		if who.plan == "" {
			who.plan = c.Plan
		}
	}
	if q.Plan != "" && r.Plan(q.Plan) == nil {
		return CustomerView{}, &UnknownPlanError{Plan: q.Plan, Closest: closestPlans(r, q.Plan)}
	}
	named := false
	for _, f := range r.Features() {
		entries := r.CustomerGrants(q.Customer, f.Key)
		for _, g := range entries {
			p := g.Promotion.Promotion
			if a, ok := p.AccessOf(q.Customer, p.Entry(q.Customer), v.Customer, who.eligible(g.Promotion), q.At); ok {
				v.Promotions = append(v.Promotions, CustomerPromotion{ID: p.ID, Name: p.Name, Feature: p.Feature, Access: a})
				named = true
			}
		}
		for _, all := range f.AllGrants {
			if entryOf(entries, all.Promotion) != nil {
				continue
			}
			p := all.Promotion.Promotion
			if a, ok := p.AccessOf(q.Customer, nil, v.Customer, who.eligible(all.Promotion), q.At); ok {
				v.Promotions = append(v.Promotions, CustomerPromotion{ID: p.ID, Name: p.Name, Feature: p.Feature, Access: a})
			}
		}
		fq := q
		fq.Feature, fq.Explain = f.Key, true
		d, err := Decide(s, fq)
		if err != nil {
			return CustomerView{}, err
		}
		v.Decisions = append(v.Decisions, d)
	}
	if !v.Known && !named {
		return CustomerView{}, ErrCustomerNotFound
	}
	return v, nil
}

// MarshalJSON renders the view as `promoctl customer show --format json`
// and GET /v1/customers/{id} answer it.
func (v CustomerView) MarshalJSON() ([]byte, error) {
	type record struct {
		ID            string            `json:"id"`
		Name          string            `json:"name"`
		Email         string            `json:"email"`
		Plan          string            `json:"plan"`
		Attributes    map[string]string `json:"attributes"`
		BillingAnchor *time.Time        `json:"billing_anchor"`
	}
	type promotion struct {
		ID        string                    `json:"id"`
		Name      string                    `json:"name"`
		Feature   string                    `json:"feature"`
		Via       promotions.Via            `json:"via"`
		State     promotions.GrantState     `json:"state"`
		Effective promotions.EffectiveState `json:"effective"`
		Eligible  bool                      `json:"eligible"`
		EndsAt    *time.Time                `json:"ends_at"`
		Periods   []promotions.PeriodView   `json:"periods"`
	}
	out := struct {
		Customer      *record     `json:"customer"`
		CustomerKnown *bool       `json:"customer_known,omitempty"`
		At            time.Time   `json:"at"`
		Promotions    []promotion `json:"promotions"`
		Decisions     []Decision  `json:"decisions"`
	}{At: v.At.UTC(), Promotions: make([]promotion, 0, len(v.Promotions)), Decisions: v.Decisions}
	if c := v.Customer; c != nil {
		attrs := c.Attributes
		if attrs == nil {
			attrs = map[string]string{}
		}
		out.Customer = &record{ID: c.ID, Name: c.Name, Email: c.Email, Plan: c.Plan, Attributes: attrs, BillingAnchor: c.BillingAnchor}
		if c.BillingAnchor != nil {
			anchor := c.BillingAnchor.UTC()
			out.Customer.BillingAnchor = &anchor
		}
	}
	if v.Directory {
		known := v.Known
		out.CustomerKnown = &known
	}
	for _, p := range v.Promotions {
		out.Promotions = append(out.Promotions, promotion{ID: p.ID, Name: p.Name, Feature: p.Feature, Via: p.Via, State: p.State,
			Effective: p.Effective, Eligible: p.Eligible, EndsAt: p.EndsAt, Periods: p.Periods})
	}
	if out.Decisions == nil {
		out.Decisions = []Decision{}
	}
	return json.Marshal(out)
}
