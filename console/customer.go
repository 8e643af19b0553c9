package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/compiler/history"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
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
	// record), at most historyPage of them; HistoryStopped says where the
	// walk stopped when it did before the first commit, and More links to
	// the older changes from there.
	History        []history.Commit
	HistoryStopped string
	HistoryError   string
	More           string
	Usage          usageData
}

// historyPage is how many commits with a change the customer page shows;
// "older changes" continues where the walk stopped. A walk stops after the
// commits it shows, after history.DefaultMaxCommits commits or after
// historyDeadline, and when the request is cancelled, so a page reads only
// a bounded part of the history.
const historyPage = 20

// historyDeadline bounds the time a customer page spends in git history.
const historyDeadline = 5 * time.Second

// customerLookup sends the header's lookup box to the customer's page.
func (s *Server) customerLookup(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	query := strings.TrimSpace(q.Get("q"))
	if query == "" {
		query = strings.TrimSpace(q.Get("id"))
	}
	if query == "" {
		s.fail(w, r, http.StatusBadRequest, "Enter a customer's id, name or email.")
		return
	}
	open := func(id string) {
		http.Redirect(w, r, link("/customers/"+url.PathEscape(id), "branch", q.Get("branch")), http.StatusSeeOther)
	}
	branch, v, ok := s.compiledView(w, r, q.Get("branch"))
	if !ok {
		return
	}
	if _, known := v.model.Customers[query]; known || !v.model.HasDirectory {
		open(query)
		return
	}
	d := lookupData{Query: query}
	ids, keys := v.directory()
	needle := strings.ToLower(query)
	for i, id := range ids {
		if keys.matches(i, needle) {
			d.Matching++
			if len(d.Rows) < lookupShown {
				d.Rows = append(d.Rows, v.model.Customers[id])
			}
		}
	}
	if d.Matching == 1 {
		open(d.Rows[0].ID)
		return
	}
	status := http.StatusOK
	if d.Matching == 0 {
		status = http.StatusNotFound
	}
	s.render(w, r, status, "lookup", page{Title: "Customers matching " + query, Branch: branch, Commit: v.commit.String(), Data: d})
}

// lookupShown bounds the customers a lookup lists.
const lookupShown = 50

// lookupData is the header lookup's answer when it is not one customer.
type lookupData struct {
	Query    string
	Rows     []*promotions.Customer
	Matching int
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
	d.Usage = s.readUsage(r.Context(), snap, id, d.CustomerView)
	skip, _ := strconv.Atoi(q.Get("history_skip"))
	commits, st, err := history.WalkContext(r.Context(), s.opts.Repo, history.Query{Customer: id, From: v.commit.String(),
		Limit: historyPage, Skip: max(skip, 0), Deadline: time.Now().Add(historyDeadline), Limits: s.opts.Limits})
	if r.Context().Err() != nil {
		return // the client went away: nobody reads the page
	}
	if err != nil {
		d.HistoryError = err.Error()
	}
	if st.Stopped != history.Complete && err == nil {
		switch st.Stopped {
		case history.CommitBound:
			d.HistoryStopped = fmt.Sprintf("Read %d commits, down to %s of %s.", st.Commits, st.Last[:12], st.LastDate.Format("2006-01-02"))
		case history.DeadlineReach:
			d.HistoryStopped = fmt.Sprintf("Stopped after %s and %d commits, at %s of %s.", historyDeadline, st.Commits, st.Last[:12], st.LastDate.Format("2006-01-02"))
		}
		d.More = link("/customers/"+url.PathEscape(id), "branch", q.Get("branch"), "at", d.AtInput, "history_skip", strconv.Itoa(st.Next))
	}
	d.History = commits
	s.render(w, r, http.StatusOK, "customer", page{Title: "Customer " + id, Section: "customers", Branch: branch, Commit: v.commit.String(), Data: d})
}
