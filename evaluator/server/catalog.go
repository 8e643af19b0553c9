package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/promoctl/promoctl/evaluator"
)

type featureItem struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	Type string `json:"type"`
	Unit string `json:"unit,omitempty"`
}

type planItem struct {
	Key          string            `json:"key"`
	Name         string            `json:"name"`
	Entitlements []planEntitlement `json:"entitlements"`
}

type planEntitlement struct {
	Feature   string `json:"feature"`
	Allowance any    `json:"allowance,omitempty"`
	Reset     string `json:"reset,omitempty"`
}

type itemsBody[T any] struct {
	Items []T `json:"items"`
}

// features lists the catalogue's features in key order.
func (s *Server) features(w http.ResponseWriter, _ *http.Request) {
	snap := s.snapshot(w)
	if snap == nil {
		return
	}
	rows := snap.Read().Features()
	out := itemsBody[featureItem]{Items: make([]featureItem, 0, len(rows))}
	for _, f := range rows {
		out.Items = append(out.Items, featureItem{Key: f.Key, Name: f.Name, Type: string(f.Type), Unit: f.Unit})
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, out)
}

// plans lists the plans in key order with their entitlements as written.
func (s *Server) plans(w http.ResponseWriter, _ *http.Request) {
	snap := s.snapshot(w)
	if snap == nil {
		return
	}
	rows := snap.Read().Plans()
	out := itemsBody[planItem]{Items: make([]planItem, 0, len(rows))}
	for _, row := range rows {
		item := planItem{Key: row.Key, Name: row.Name, Entitlements: []planEntitlement{}}
		if p := snap.Model.Plans[row.Key]; p != nil {
			for _, e := range p.Entitlements {
				pe := planEntitlement{Feature: e.Feature, Reset: string(e.Reset)}
				if e.Allowance != nil {
					pe.Allowance = allowanceValue(*e.Allowance)
				}
				item.Entitlements = append(item.Entitlements, pe)
			}
		}
		out.Items = append(out.Items, item)
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, out)
}

// customer answers the support view of `promoctl customer show`.
func (s *Server) customer(w http.ResponseWriter, r *http.Request) {
	q, snap, ok := s.customerQuery(w, r)
	if !ok {
		return
	}
	v, err := evaluator.ViewCustomer(snap, q)
	var unknownPlan *evaluator.UnknownPlanError
	switch {
	case errors.As(err, &unknownPlan):
		writeError(w, http.StatusBadRequest, CodeUnknownPlan, err.Error())
		return
	case errors.Is(err, evaluator.ErrCustomerNotFound):
		writeError(w, http.StatusNotFound, CodeCustomerNotFound,
			fmt.Sprintf("customer %q is not in the directory and no promotion names it", q.Customer))
		return
	case err != nil:
		writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, v)
}

// unknownPlan answers 400 UNKNOWN_PLAN when err is one; it reports whether
// it did.
func unknownPlan(w http.ResponseWriter, err error) bool {
	if err == nil {
		return false // the hot path: errors.As would allocate its target
	}
	var e *evaluator.UnknownPlanError
	if !errors.As(err, &e) {
		return false
	}
	writeError(w, http.StatusBadRequest, CodeUnknownPlan, e.Error())
	return true
}
