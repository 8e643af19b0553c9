package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

// stateChange commits grant, revoke, deactivate or activate. Revoke and
// Deactivate take two steps: the first post shows what will change and
// asks to confirm (a plain form, no script needed); the second, carrying
// confirmed, commits.
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
	branch, v, ok := s.compiledView(w, r, viewed)
	if !ok {
		return
	}
	p, ok := v.model.Promotions[id]
	if !ok {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("No promotion %q.", id))
		return
	}
	back := backLink{URL: link("/promotions/"+id, "branch", viewed), Label: p.Name}
	if form.Get("from") == "access" {
		back = backLink{URL: link("/promotions/"+id+"/access", "branch", viewed, "state", form.Get("state"), "q", form.Get("q")), Label: "Manage access · " + p.Name}
	}
	refuse := func(title, message string, details ...string) {
		s.render(w, r, http.StatusUnprocessableEntity, "problem", page{Title: title, Branch: branch,
			Data: problem{Message: message, Details: details, Back: back}})
	}
	ids := form["customer"]
	allMatching := form.Get("all_matching")
	grantAll := action == "grant" && form.Get("scope") == "all"
	if (action == "grant" || action == "revoke") && !grantAll && allMatching == "" && len(ids) == 0 {
		refuse("Nothing selected", "Select at least one customer. Nothing was committed.")
		return
	}
	now := s.now().Truncate(time.Second)
	at := now
	if action == "grant" {
		var msg string
		if at, msg = grantStart(form, now); msg != "" {
			refuse("When does the grant start?", msg+" Nothing was committed.")
			return
		}
		if why := grantBlocked(p, at, now); why != "" {
			refuse("Cannot grant "+p.Name, why+" Nothing was committed.")
			return
		}
		if reasons := ineligible(v.model, p, ids); len(reasons) > 0 {
			refuse("Cannot grant "+p.Name, "Some customers cannot be granted this promotion. Nothing was committed.", reasons...)
			return
		}
	}
	if (action == "revoke" || action == "deactivate") && form.Get("confirmed") == "" {
		s.confirm(w, r, branch, v, p, action, back, now)
		return
	}
	out, err := s.commitChange(r, change{action: action, promotion: id, file: p.File, blob: form.Get("blob"), target: form.Get("target"),
		edit: func(ws *workspace) (*applyflow.Change, string, []string, error) {
			cur, _, err := ws.session.Promotion(id)
			var gone *applyflow.UnknownPromotionError
			if errors.As(err, &gone) {
				return nil, "", []string{"Promotion " + id + " is no longer on the branch the change goes to."}, nil
			}
			if err != nil {
				return nil, "", nil, err
			}
			selected := ids
			if allMatching != "" {
				// "All N matching" is recomputed on the tree being
				// changed, by effective state now: a different N means
				// the list moved.
				rows := filterAccess(ws.v.accessList(cur, now), form.Get("state"), strings.TrimSpace(form.Get("q")))
				if want, _ := strconv.Atoi(allMatching); want != len(rows) {
					return nil, "", nil, &applyflow.StaleError{Reason: fmt.Sprintf(
						"The matching set moved: the selection was all %s matching customers, and %d match now on the branch the change goes to.", allMatching, len(rows))}
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
					msgs[i] = sentence(rf.String())
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
	out.Promotion = id
	s.answer(w, r, out, back)
}

// grantStart reads the "Grant starts" field: now, or a date (midnight UTC)
// or a date and time (UTC). The message says what to type when it cannot
// be read.
func grantStart(form url.Values, now time.Time) (time.Time, string) {
	if form.Get("starts") != "date" {
		return now, ""
	}
	in := strings.TrimSpace(form.Get("starts_at"))
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, in, time.UTC); err == nil && promotions.InRange(t) {
			return t, ""
		}
	}
	if t, err := promotions.ParseTime(in); err == nil {
		return t.UTC(), ""
	}
	if in == "" {
		return time.Time{}, "Enter when the grant starts, or choose Now."
	}
	return time.Time{}, fmt.Sprintf("%q is not a date: enter when the grant starts as a date (2026-05-01) or a date and time in UTC (2026-05-01 09:00).", in)
}

// grantBlocked says, in the operator's words, why nothing can be granted
// starting at at: the promotion is deactivated, or at is outside its
// window. "" when a grant can start then.
func grantBlocked(p *promotions.Promotion, at, now time.Time) string {
	if p.Status == promotions.StatusDeactivated {
		since := ""
		if p.DeactivatedAt != nil {
			since = " since " + formatDate(*p.DeactivatedAt)
		}
		return fmt.Sprintf("%s is deactivated%s: activate it before granting it.", p.Name, since)
	}
	if end := p.Window.End; end != nil && !end.After(now) {
		return fmt.Sprintf("The promotion's window closed on %s: nobody can be granted it any more. Create a new promotion to offer it again.", formatDate(*end))
	}
	if end := p.Window.End; end != nil && !at.Before(*end) {
		return fmt.Sprintf("The grant would start on %s, but the promotion's window closes on %s: choose an earlier start.", formatDate(at), formatDate(*end))
	}
	if start := p.Window.Start; start != nil && at.Before(*start) {
		return fmt.Sprintf("The grant would start on %s, before the promotion's window opens on %s: choose a start on or after %s.", formatDate(at), formatDate(*start), formatDate(*start))
	}
	return ""
}

// ineligible says, per customer, why the directory's record rules a grant
// out: not in the directory, or plan and attributes outside the rules.
func ineligible(m *promotions.Model, p *promotions.Promotion, ids []string) []string {
	if !m.HasDirectory {
		return nil
	}
	var out []string
	for _, id := range ids {
		c, ok := m.Customers[id]
		if !ok {
			out = append(out, id+" is not in the customer directory.")
			continue
		}
		if why := notEligible(p, c); why != "" {
			out = append(out, who(c)+" is not eligible: "+why+".")
		}
	}
	return out
}

// notEligible says why a customer's record does not meet a promotion's
// eligibility, "" when it does.
func notEligible(p *promotions.Promotion, c *promotions.Customer) string {
	rule, _ := p.Eligibility.FailedRule(c.Plan, c)
	switch {
	case rule == "":
		return ""
	case rule == "plans":
		return fmt.Sprintf("plan %s is not one of %s", c.Plan, strings.Join(p.Eligibility.Plans, ", "))
	}
	key := strings.TrimPrefix(rule, "attributes.")
	allowed := strings.Join(p.Eligibility.Attributes[key], ", ")
	if v, ok := c.Attribute(key); ok {
		return fmt.Sprintf("%s %s is not one of %s", key, v, allowed)
	}
	return fmt.Sprintf("no %s is recorded (it must be one of %s)", key, allowed)
}

func who(c *promotions.Customer) string {
	if c.Name == "" {
		return c.ID
	}
	return c.ID + " (" + c.Name + ")"
}

// confirmData is the confirmation step of Revoke and Deactivate: what
// will change, and the form that commits it.
type confirmData struct {
	Action string
	P      *promotions.Promotion
	// Customers are those a revoke selects (the first confirmShown), More
	// how many others; Scope describes an "all N matching" selection.
	Customers []*promotions.Customer
	More      int
	Scope     string
	// Ending counts the grants a deactivation ends (active or scheduled);
	// All is set when grants.all is among them.
	Ending int
	All    bool
	Hidden []field
	Where  destination
	Back   backLink
}

// field is a form value carried through the confirmation step.
type field struct{ Name, Value string }

// confirmShown bounds the customers a confirmation lists by name.
const confirmShown = 50

func (s *Server) confirm(w http.ResponseWriter, r *http.Request, branch string, v *view, p *promotions.Promotion, action string, back backLink, now time.Time) {
	form := r.PostForm
	d := confirmData{Action: action, P: p, Back: back}
	for _, name := range promotions.SortedKeys(form) {
		if name == "target" || name == "confirmed" {
			continue
		}
		for _, value := range form[name] {
			d.Hidden = append(d.Hidden, field{name, value})
		}
	}
	d.Where = s.destination(branch, p.File, form.Get("blob"))
	switch action {
	case "revoke":
		ids := form["customer"]
		if n := form.Get("all_matching"); n != "" {
			//lint:ignore SA1019 the filter's name is one ASCII word (granted, revoked)
			d.Scope = fmt.Sprintf("all %s customers in the %s view", n, strings.Title(form.Get("state")))
			if q := strings.TrimSpace(form.Get("q")); q != "" {
				d.Scope += fmt.Sprintf(" matching %q", q)
			}
			rows := filterAccess(v.accessList(p, now), form.Get("state"), form.Get("q"))
			if want, _ := strconv.Atoi(n); want != len(rows) {
				s.answer(w, r, &outcome{Stale: fmt.Sprintf("The matching set moved: the selection was all %s matching customers, and %d match now.", n, len(rows))}, back)
				return
			}
			ids = nil
			for _, row := range rows {
				ids = append(ids, row.ID)
			}
		}
		slices.Sort(ids)
		for i, id := range ids {
			if i == confirmShown {
				d.More = len(ids) - confirmShown
				break
			}
			c := v.model.Customers[id]
			if c == nil {
				c = &promotions.Customer{ID: id}
			}
			d.Customers = append(d.Customers, c)
		}
	case "deactivate":
		sum := p.Summarize(now)
		d.Ending = sum.Counts[promotions.EffectiveActive] + sum.Counts[promotions.EffectiveScheduled]
		d.All = sum.All != nil && (sum.All.State == promotions.EffectiveActive || sum.All.State == promotions.EffectiveScheduled)
	}
	title := "Revoke " + p.Name + "?"
	if action == "deactivate" {
		title = "Deactivate " + p.Name + "?"
	}
	s.render(w, r, http.StatusOK, "confirm", page{Title: title, Section: "promotions", Branch: branch, Commit: v.commit.String(), Data: d})
}
