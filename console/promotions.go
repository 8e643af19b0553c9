package console

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/promoctl/promoctl/promotions"
)

// promotionsPerPage bounds the Promotions table.
const promotionsPerPage = 100

// promotionRow is one line of the Promotions table: the promotion and its
// grants counted by effective state.
type promotionRow struct {
	P *promotions.Promotion
	promotions.Summary
}

type promotionsData struct {
	Rows                   []promotionRow
	Total, Matching        int
	Query, Status, Feature string
	Type                   string
	Features               []*promotions.Feature
	Active, Deactivated    int
	Applied                int
	// Counts adds up the entries of every promotion by effective state;
	// AllActive counts promotions whose grants.all is active.
	Counts     map[promotions.EffectiveState]int
	AllActive  int
	EndingSoon int
	Pager      pager
	Problems   []string
}

func (s *Server) promotionsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	branch, v, ok := s.compiledView(w, r, q.Get("branch"))
	if !ok {
		return
	}
	now := s.now()
	d := promotionsData{Query: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Feature: q.Get("feature"), Type: q.Get("type"),
		Counts: map[promotions.EffectiveState]int{}}
	for _, k := range promotions.SortedKeys(v.model.Features) {
		d.Features = append(d.Features, v.model.Features[k])
	}
	all := v.model.SortedPromotions()
	d.Total = len(all)
	var rows []promotionRow
	for _, p := range all {
		// The counts of `promoctl promotions` and /v1/promotions.
		row := promotionRow{P: p, Summary: p.Summarize(now)}
		if p.Status == promotions.StatusDeactivated {
			d.Deactivated++
		} else {
			d.Active++
		}
		if p.IsApplied {
			d.Applied++
		}
		for st, n := range row.Counts {
			d.Counts[st] += n
		}
		if row.All != nil && row.All.State == promotions.EffectiveActive {
			d.AllActive++
		}
		d.EndingSoon += row.EndingSoon
		if d.Status != "" && string(p.Status) != d.Status ||
			d.Feature != "" && p.Feature != d.Feature ||
			d.Type != "" && string(p.FeatureType) != d.Type ||
			d.Query != "" && !containsFold(d.Query, p.ID, p.Name, p.Description, p.Feature) {
			continue
		}
		rows = append(rows, row)
	}
	d.Matching = len(rows)
	d.Pager = newPager(r, len(rows), promotionsPerPage)
	d.Rows = rows[d.Pager.From:d.Pager.To]
	for _, diag := range v.res.Diagnostics.Warnings() {
		if len(d.Problems) == 5 {
			break
		}
		d.Problems = append(d.Problems, diag.String())
	}
	s.render(w, r, http.StatusOK, "promotions", page{Title: "Promotions", Section: "promotions", Branch: branch, Commit: v.commit.String(), Data: d})
}

func containsFold(query string, fields ...string) bool {
	q := strings.ToLower(query)
	for _, f := range fields {
		if strings.Contains(strings.ToLower(f), q) {
			return true
		}
	}
	return false
}

// pager is server-side paging of a list.
type pager struct {
	Page, Pages, Total, From, To int
	// Prev and Next are links to the neighbouring pages ("" when none).
	Prev, Next string
}

func newPager(r *http.Request, total, per int) pager {
	pages := max(1, (total+per-1)/per)
	n, _ := strconv.Atoi(r.URL.Query().Get("page"))
	n = min(max(n, 1), pages)
	p := pager{Page: n, Pages: pages, Total: total, From: (n - 1) * per, To: min(n*per, total)}
	to := func(page int) string {
		q := r.URL.Query()
		q.Set("page", strconv.Itoa(page))
		return r.URL.Path + "?" + q.Encode()
	}
	if n > 1 {
		p.Prev = to(n - 1)
	}
	if n < pages {
		p.Next = to(n + 1)
	}
	return p
}

// brokenBranch explains that a branch does not compile.
func (s *Server) brokenBranch(w http.ResponseWriter, r *http.Request, branch string, v *view) {
	var details []string
	for _, d := range v.res.Diagnostics.Errors() {
		details = append(details, d.String())
		if len(details) == 50 {
			break
		}
	}
	s.render(w, r, http.StatusUnprocessableEntity, "problem", page{Title: "Branch does not compile", Branch: branch,
		Data: problem{Message: "Branch " + branch + " does not compile; fix it in the repository.", Details: details}})
}

// sortedFeatures lists features by key, optionally of one type.
func sortedFeatures(m *promotions.Model, typ promotions.FeatureType) []*promotions.Feature {
	var out []*promotions.Feature
	for _, f := range m.Features {
		if typ == "" || f.Type == typ {
			out = append(out, f)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// sortedPlans are the repo's plan keys in order: the Eligible plans
// checkboxes.
func sortedPlans(m *promotions.Model) []string {
	return promotions.SortedKeys(m.Plans)
}
