package console

import (
	"fmt"
	"net/http"
	"strings"
	"time"

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
	GrantRows     []grantPick
	GrantMatching int
	HasDirectory  bool
	// GrantBlocked says why nothing can be granted now (deactivated, the
	// window closed); "" when the Grant to customers panel is offered.
	GrantBlocked string
	// Starts is the Grant starts field's default.
	Starts startsField
	Where  destination
}

// grantPick is a customer found by the grant panel's search; Why says why
// they cannot be granted ("" when they can).
type grantPick struct {
	C   *promotions.Customer
	Why string
}

// startsField is the "Grant starts" field: now, or a date and time.
type startsField struct {
	ID   string // prefix of the inputs' ids: one field per form
	Date string // a start to propose ("" : now)
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
		Form: formOf(p), HasDirectory: v.model.HasDirectory, Where: s.destination(branch, p.File, blob)}
	d.GrantBlocked, d.Starts.Date = grantOffer(p, now)
	d.Form.Features, d.Form.AllPlans = sortedFeatures(v.model, ""), sortedPlans(v.model)
	d.Form.Locked = p.IsApplied
	d.Customers = s.accessData(r, v, p, r.URL.Query().Get("state"), now)
	d.Customers.Blob, d.Customers.Where, d.Customers.GrantBlocked = blob, d.Where, d.GrantBlocked
	d.GrantQuery = strings.TrimSpace(r.URL.Query().Get("gq"))
	if d.GrantQuery != "" && v.model.HasDirectory {
		ids, keys := v.directory()
		q := strings.ToLower(d.GrantQuery)
		for i, id := range ids {
			if keys.matches(i, q) {
				d.GrantMatching++
				if len(d.GrantRows) < grantMatches {
					c := v.model.Customers[id]
					d.GrantRows = append(d.GrantRows, grantPick{C: c, Why: notEligible(p, c)})
				}
			}
		}
	}
	return d
}

// grantOffer says why nothing can be granted now ("" when something can)
// and the start the Grant starts field proposes: before the window opens,
// the earliest grant starts with it.
func grantOffer(p *promotions.Promotion, now time.Time) (blocked, starts string) {
	if start := p.Window.Start; start != nil && start.After(now) && p.Status != promotions.StatusDeactivated {
		return "", startsInput(*start)
	}
	return grantBlocked(p, now, now), ""
}

// startsInput is an instant as the Grant starts input shows it.
func startsInput(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
