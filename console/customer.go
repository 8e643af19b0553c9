package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/promoctl/promoctl/compiler/history"
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
	// History is the newest changes git records for the customer (entries
	// naming them, grants.all of promotions covering them, their directory
	// record), at most HistoryShown of them; More links to a longer list.
	History      []history.Commit
	HistoryShown int
	HistoryError string
	More         string
}

// historyPage is how many commits with a change the customer page shows
// at first; "older" shows as many more each time. A walk stops after the
// commits it shows, so a page reads only the newest history.
const historyPage = 20

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
// The history from git (promoctl history --customer) closes the page.
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
	shown := historyPage
	if n, err := strconv.Atoi(q.Get("history")); err == nil && n > shown {
		shown = min(n, 50*historyPage)
	}
	commits, _, err := history.Walk(s.opts.Repo, history.Query{Customer: id, From: v.commit.String(), Limit: shown + 1, Limits: s.opts.Limits})
	if err != nil {
		d.HistoryError = err.Error()
	}
	if len(commits) > shown {
		commits = commits[:shown]
		d.More = link("/customers/"+url.PathEscape(id), "branch", q.Get("branch"), "at", d.AtInput, "history", strconv.Itoa(shown+historyPage))
	}
	d.History, d.HistoryShown = commits, shown
	s.render(w, r, http.StatusOK, "customer", page{Title: "Customer " + id, Section: "customers", Branch: branch, Commit: v.commit.String(), Data: d})
}
