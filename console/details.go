package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

// customersPerPage bounds the Customers and Manage access tables.
const customersPerPage = 50

// grantMatches bounds the search results of the Grant to customers panel.
const grantMatches = 50

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
	Targets []string
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

// promotionView finds the promotion of a request on its branch.
func (s *Server) promotionView(w http.ResponseWriter, r *http.Request, branch string) (string, *view, *promotions.Promotion, string, bool) {
	branch, v, ok := s.compiledView(w, r, branch)
	if !ok {
		return "", nil, nil, "", false
	}
	id := r.PathValue("id")
	p, ok := v.model.Promotions[id]
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No promotion %q on %s.", id, branch))
		return "", nil, nil, "", false
	}
	blob, err := s.git.BlobHash(v.commit, p.File)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return "", nil, nil, "", false
	}
	return branch, v, p, blob, true
}

type detailsData struct {
	P       *promotions.Promotion
	Feature *promotions.Feature
	Counts  promotions.Summary
	Blob    string
	Form    promoForm
	// Customers is the first page of the Customers section.
	Customers accessData
	// GrantQuery and GrantRows are the Grant to customers panel's search.
	GrantQuery    string
	GrantRows     []*promotions.Customer
	GrantMatching int
	HasDirectory  bool
	Targets       []string
}

func (s *Server) detailsPage(w http.ResponseWriter, r *http.Request) {
	branch, v, p, blob, ok := s.promotionView(w, r, r.URL.Query().Get("branch"))
	if !ok {
		return
	}
	d := s.details(r, v, p, blob, branch)
	s.render(w, r, http.StatusOK, "details", page{Title: p.Name, Section: "promotions", Branch: branch, Commit: v.commit.String(), Data: d})
}

func (s *Server) details(r *http.Request, v *view, p *promotions.Promotion, blob, branch string) detailsData {
	now := s.now()
	d := detailsData{P: p, Feature: v.model.Features[p.Feature], Counts: p.Summarize(now), Blob: blob,
		Form: formOf(p), HasDirectory: v.model.HasDirectory, Targets: s.targets(branch)}
	d.Form.Features = sortedFeatures(v.model, "")
	d.Form.Locked = p.IsApplied
	d.Customers = s.accessData(r, v, p, r.URL.Query().Get("state"), now)
	d.Customers.Blob, d.Customers.Targets = blob, d.Targets
	d.GrantQuery = strings.TrimSpace(r.URL.Query().Get("gq"))
	if d.GrantQuery != "" && v.model.HasDirectory {
		ids, keys := v.directory()
		q := strings.ToLower(d.GrantQuery)
		for i, id := range ids {
			if keys.matches(i, q) {
				d.GrantMatching++
				if len(d.GrantRows) < grantMatches {
					d.GrantRows = append(d.GrantRows, v.model.Customers[id])
				}
			}
		}
	}
	return d
}

// targets are the branches a form may commit to: "" (a new branch) and,
// when the page shows a console branch, that branch.
func (s *Server) targets(branch string) []string {
	if isConsoleBranch(branch) {
		return []string{branch}
	}
	return nil
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
	d.Blob, d.Targets = blob, s.targets(branch)
	s.render(w, r, http.StatusOK, "access", page{Title: "Manage access · " + p.Name, Section: "promotions", Branch: branch, Commit: v.commit.String(), Data: d})
}

// stateChange commits grant, revoke, deactivate or activate.
func (s *Server) stateChange(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "Could not read the form.")
		return
	}
	id, action := r.PathValue("id"), r.PathValue("action")
	switch action {
	case "grant", "revoke", "deactivate", "activate":
	default:
		s.fail(w, r, http.StatusNotFound, "No action "+action+".")
		return
	}
	form := r.PostForm
	viewed := form.Get("branch")
	_, v, ok := s.compiledView(w, r, viewed)
	if !ok {
		return
	}
	p, ok := v.model.Promotions[id]
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No promotion %q.", id))
		return
	}
	reload := link("/promotions/"+id, "branch", viewed)
	if form.Get("from") == "access" {
		reload = link("/promotions/"+id+"/access", "branch", viewed, "state", form.Get("state"), "q", form.Get("q"))
	}
	ids := form["customer"]
	allMatching := form.Get("all_matching")
	grantAll := action == "grant" && form.Get("scope") == "all"
	if (action == "grant" || action == "revoke") && !grantAll && allMatching == "" && len(ids) == 0 {
		s.render(w, r, http.StatusUnprocessableEntity, "problem", page{Title: "Nothing selected",
			Data: problem{Message: "Select at least one customer. Nothing was committed.", Reload: reload}})
		return
	}
	at := s.now().Truncate(time.Second)
	out, err := s.commitChange(r, change{action: action, promotion: id, file: p.File, blob: form.Get("blob"), target: form.Get("target"),
		edit: func(ws *workspace) (*applyflow.Change, string, []string, error) {
			cur, _, err := ws.session.Promotion(id)
			var gone *applyflow.UnknownPromotionError
			if errors.As(err, &gone) {
				return nil, "", []string{"promotion " + id + " is gone from the branch"}, nil
			}
			if err != nil {
				return nil, "", nil, err
			}
			selected := ids
			if allMatching != "" {
				// "All N matching" is recomputed on the tree being
				// changed: a different N means the list moved.
				// The filter goes by effective state at the instant of
				// the change, as the apply flow's period rules do.
				rows := filterAccess(ws.v.accessList(cur, at), form.Get("state"), strings.TrimSpace(form.Get("q")))
				if want, _ := strconv.Atoi(allMatching); want != len(rows) {
					return nil, "", nil, &applyflow.StaleError{Reason: fmt.Sprintf("The selection was all %s matching customers; %d match now.", allMatching, len(rows))}
				}
				selected = make([]string, len(rows))
				for i, row := range rows {
					selected[i] = row.ID
				}
			}
			var res *applyflow.Result
			switch action {
			case "deactivate":
				res, err = ws.session.Deactivate(id, applyflow.DeactivateOptions{At: at})
			case "activate":
				res, err = ws.session.Activate(id, applyflow.ActivateOptions{At: at})
			case "grant":
				res, err = ws.session.Grant(id, applyflow.CustomerOptions{At: at, Customers: applyflow.Selection{IDs: selected, All: grantAll}})
			default:
				res, err = ws.session.Revoke(id, applyflow.CustomerOptions{At: at, Customers: applyflow.Selection{IDs: selected}})
			}
			if res == nil {
				return nil, "", nil, err
			}
			if res.Refused() {
				msgs := make([]string, len(res.Refusals))
				for i, rf := range res.Refusals {
					msgs[i] = rf.String()
				}
				return nil, "", msgs, nil
			}
			if err == nil && res.Change == nil {
				return nil, res.Headline() + " (" + res.Summary + ")", nil, errNoChange
			}
			return res.Change, res.CommitMessage(), nil, err
		}})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	s.answer(w, r, out, reload)
}
