package console

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/promoctl/promoctl/promotions"
)

// grantMatches bounds the search results of the Grant to customers panel.
const grantMatches = 50

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
	d.Form.Features, d.Form.AllPlans = sortedFeatures(v.model, ""), sortedPlans(v.model)
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
