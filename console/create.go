package console

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
)

// promotionID is the charset of promotion ids (that of feature keys).
var promotionID = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

type createData struct {
	Form promoForm
	Blob string
}

func (s *Server) createPage(w http.ResponseWriter, r *http.Request) {
	_, v, ok := s.compiledView(w, r, "")
	if !ok {
		return
	}
	f := promoForm{FeatureType: string(promotions.FeatureBoolean), StartMode: "now", ExpiryMode: "forever",
		DurationUnit: string(promotions.UnitMonths), Mode: string(promotions.ModeAdditive), Reset: string(promotions.ResetMonthly)}
	f.Features, f.AllPlans = sortedFeatures(v.model, ""), sortedPlans(v.model)
	s.render(w, r, http.StatusOK, "create", page{Title: "Create promotional entitlement", Section: "promotions", Commit: v.commit.String(), Data: createData{Form: f}})
}

// create validates the form against the base branch and commits the new
// promotion file on a new branch; any error re-renders the form with the
// message at its field and commits nothing.
func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, http.StatusBadRequest, "Could not read the form.")
		return
	}
	_, v, ok := s.compiledView(w, r, "")
	if !ok {
		return
	}
	var f promoForm
	f.read(r.PostForm)
	f.Features, f.AllPlans = sortedFeatures(v.model, ""), sortedPlans(v.model)
	again := func(status int) {
		s.render(w, r, status, "create", page{Title: "Create promotional entitlement", Section: "promotions", Commit: v.commit.String(), Data: createData{Form: f}})
	}
	id := slug(f.Name)
	p := f.promotion(promotions.Promotion{ID: id, Status: promotions.StatusActive}, v.model)
	if f.Name != "" && !promotionID.MatchString(id) {
		f.fail(fieldName, "The name must contain letters or digits: the id is made from it.")
	}
	if other, ok := v.model.Promotions[id]; ok && f.Errors[fieldName] == "" {
		f.fail(fieldName, fmt.Sprintf("A promotion with id %s exists already (%s): choose another name.", id, other.File))
	}
	if !f.ok() {
		again(http.StatusUnprocessableEntity)
		return
	}
	file := "promotions/" + id + ".yaml"
	out, err := s.commitChange(r, change{action: "create", promotion: id, file: file, blob: "",
		edit: func(ws *workspace) (*applyflow.Change, string, []string, error) {
			checked, err := ws.session.Create(p)
			var exists *applyflow.ExistsError
			if errors.As(err, &exists) {
				return nil, "", []string{fmt.Sprintf("a promotion with id %s exists already (%s): choose another name", id, exists.File)}, nil
			}
			return checked, fmt.Sprintf("create %s (%s, %s)\n\n%s\n", id, p.Feature, p.FeatureType, p.Name), nil, err
		}})
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, err.Error())
		return
	}
	if out.Stale != "" || len(out.Refusals) > 0 {
		if out.Stale != "" {
			out.Refusals = append(out.Refusals, out.Stale)
		}
		for _, msg := range out.Refusals {
			f.fail(fieldName, msg)
		}
		again(http.StatusUnprocessableEntity)
		return
	}
	if len(out.Diagnostics) > 0 {
		f.place(out.Diagnostics)
		again(http.StatusUnprocessableEntity)
		return
	}
	out.Promotion = id
	s.answer(w, r, out, backLink{URL: "/promotions/new", Label: "Create promotional entitlement"})
}
