package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions/applyflow"
)

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
