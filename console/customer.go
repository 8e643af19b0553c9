package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/promoctl/promoctl/evaluator"
)

type customerData struct {
	ID      string
	AtInput string
	AtError string
	// View is what `promoctl customer show` and GET /v1/customers/{id}
	// answer: the record, the promotions that name or cover the customer
	// and each feature's decision with its sources and why-not list.
	evaluator.CustomerView
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
// that names the customer or covers them through grants.all with stored and
// effective state and periods, and the decision for every feature at the
// chosen instant with its sources and the reasons the other promotions do
// not contribute.
// TODO(history): the customer's history from git comes with the history
// library.
func (s *Server) customerPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	branch, v, ok := s.compiledView(w, r, q.Get("branch"))
	if !ok {
		return
	}
	id := r.PathValue("id")
	d := customerData{ID: id, AtInput: q.Get("at")}
	at := s.now()
	if d.AtInput != "" {
		if t, err := parseDateInput(d.AtInput); err == nil {
			at = t
		} else {
			d.AtError = "Enter a date (2026-04-25) or a date-time (2026-04-25T12:00:00Z)."
		}
	}
	snap, err := v.snapshot()
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	d.CustomerView, err = evaluator.ViewCustomer(snap, evaluator.Query{Customer: id, At: at})
	switch {
	case errors.Is(err, evaluator.ErrCustomerNotFound):
		s.fail(w, r, http.StatusNotFound, "No customer "+id+" in the directory, and no promotion names them.")
		return
	case err != nil:
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	s.render(w, r, http.StatusOK, "customer", page{Title: "Customer " + id, Section: "customers", Branch: branch, Commit: v.commit.String(), Data: d})
}
