package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// edit saves the details form. Only the fields that differ from the
// promotion on the branch are edited in its file (comments and the rest
// stay as they are); a change to a locked field of an applied promotion is
// refused by the is_applied lock with LOCKED_FIELD, like any other change.
func (s *Server) edit(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "Could not read the form.")
		return
	}
	branch, v, p, _, ok := s.promotionView(w, r, r.PostForm.Get("branch"))
	if !ok {
		return
	}
	f := formOf(p)
	f.read(r.PostForm)
	f.Features, f.AllPlans = sortedFeatures(v.model, ""), sortedPlans(v.model)
	f.Locked = p.IsApplied
	want := f.promotion(*p, v.model)
	again := func(status int) {
		d := s.details(r, v, p, r.PostForm.Get("blob"), branch)
		d.Form = f
		s.render(w, r, status, "details", page{Title: p.Name, Section: "promotions", Branch: branch, Commit: v.commit.String(), Data: d})
	}
	if !f.ok() {
		again(http.StatusUnprocessableEntity)
		return
	}
	out, err := s.commitChange(r, change{action: "edit", promotion: p.ID, file: p.File, blob: r.PostForm.Get("blob"), target: r.PostForm.Get("target"),
		edit: func(ws *workspace) (*applyflow.Change, string, []string, error) {
			cur, src, err := ws.session.Promotion(p.ID)
			var gone *applyflow.UnknownPromotionError
			if errors.As(err, &gone) {
				return nil, "", []string{"promotion " + p.ID + " is gone from the branch"}, nil
			}
			if err != nil {
				return nil, "", nil, err
			}
			ed, err := yamldoc.NewEditor(cur.File, src)
			if err != nil {
				return nil, "", nil, err
			}
			changed, err := editFields(ed, cur, &want)
			if err != nil {
				return nil, "", []string{err.Error()}, nil
			}
			if len(changed) == 0 {
				return nil, "edit " + p.ID, nil, errNoChange
			}
			checked, err := ws.session.Edit(cur.File, ed)
			return checked, fmt.Sprintf("edit %s: %s\n", p.ID, strings.Join(changed, ", ")), nil, err
		}})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	if len(out.Diagnostics) > 0 {
		f.place(out.Diagnostics)
		again(http.StatusUnprocessableEntity)
		return
	}
	out.Promotion = p.ID
	s.answer(w, r, out, backLink{URL: link("/promotions/"+p.ID, "branch", r.PostForm.Get("branch")), Label: p.Name})
}

// editFields records in ed the edits that turn cur into want and names the
// fields changed.
func editFields(ed *yamldoc.Editor, cur, want *promotions.Promotion) ([]string, error) {
	var changed []string
	set := func(name string, path promotions.Path, differs bool, value any) error {
		if !differs {
			return nil
		}
		changed = append(changed, name)
		if value == nil {
			return ed.Remove(path)
		}
		return ed.Set(path, value)
	}
	optional := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	steps := []func() error{
		func() error { return set("name", promotions.P("name"), cur.Name != want.Name, want.Name) },
		func() error {
			return set("description", promotions.P("description"), cur.Description != want.Description, optional(want.Description))
		},
		func() error {
			return set("feature", promotions.P("feature"), cur.Feature != want.Feature, want.Feature)
		},
		func() error {
			return set("feature_type", promotions.P("feature_type"), cur.FeatureType != want.FeatureType, string(want.FeatureType))
		},
		func() error {
			if sameTime(cur.Window.Start, want.Window.Start) {
				return nil
			}
			var v any
			if want.Window.Start != nil {
				v = *want.Window.Start
			}
			return set("window.start", promotions.P("window", "start"), true, v)
		},
		func() error {
			if sameTime(cur.Window.End, want.Window.End) {
				return nil
			}
			var v any
			if want.Window.End != nil {
				v = *want.Window.End
			}
			return set("window.end", promotions.P("window", "end"), true, v)
		},
		func() error {
			switch {
			case cur.Duration == nil && want.Duration == nil:
				return nil
			case want.Duration == nil:
				return set("duration", promotions.P("duration"), true, nil)
			case cur.Duration != nil && *cur.Duration == *want.Duration:
				return nil
			}
			changed = append(changed, "duration")
			if err := ed.Set(promotions.P("duration", "value"), want.Duration.Value); err != nil {
				return err
			}
			return ed.Set(promotions.P("duration", "unit"), string(want.Duration.Unit))
		},
		func() error {
			switch {
			case cur.Metered == nil && want.Metered == nil:
				return nil
			case want.Metered == nil:
				return set("metered", promotions.P("metered"), true, nil)
			case cur.Metered != nil && *cur.Metered == *want.Metered:
				return nil
			}
			changed = append(changed, "metered")
			var allowance any = want.Metered.Allowance.Value
			if want.Metered.Allowance.Unlimited {
				allowance = "unlimited"
			}
			for _, kv := range []struct {
				key   string
				value any
			}{{"mode", string(want.Metered.Mode)}, {"allowance", allowance}, {"reset", string(want.Metered.Reset)}} {
				if err := ed.Set(promotions.P("metered", kv.key), kv.value); err != nil {
					return err
				}
			}
			return nil
		},
		func() error {
			if sameEligibility(cur.Eligibility, want.Eligibility) {
				return nil
			}
			changed = append(changed, "eligibility")
			e := want.Eligibility
			if e == nil {
				return ed.Remove(promotions.P("eligibility"))
			}
			var fields []yamldoc.Field
			if len(e.Plans) > 0 {
				fields = append(fields, yamldoc.Field{Key: "plans", Value: yamldoc.FlowList(e.Plans)})
			}
			if len(e.Attributes) > 0 {
				var attrs []yamldoc.Field
				for _, k := range promotions.SortedKeys(e.Attributes) {
					attrs = append(attrs, yamldoc.Field{Key: k, Value: yamldoc.FlowList(e.Attributes[k])})
				}
				fields = append(fields, yamldoc.Field{Key: "attributes", Value: attrs})
			}
			return ed.Replace(promotions.P("eligibility"), fields)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("cannot edit this file from the console (%w): edit it in the repository", err)
		}
	}
	return changed, nil
}

// sameEligibility compares two eligibility rules by meaning: no rule and an
// empty one both allow everyone; plan order does not matter.
func sameEligibility(a, b *promotions.Eligibility) bool {
	empty := func(e *promotions.Eligibility) bool { return e == nil || (len(e.Plans) == 0 && len(e.Attributes) == 0) }
	if empty(a) || empty(b) {
		return empty(a) == empty(b)
	}
	if !sameSet(a.Plans, b.Plans) || len(a.Attributes) != len(b.Attributes) {
		return false
	}
	for k, v := range a.Attributes {
		w, ok := b.Attributes[k]
		if !ok || !sameSet(v, w) {
			return false
		}
	}
	return true
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}
