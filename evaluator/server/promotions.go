package server

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

type listBody[T any] struct {
	Total int `json:"total"`
	Items []T `json:"items"`
}

type promotionsBody struct {
	At    time.Time            `json:"at"`
	Total int                  `json:"total"`
	Items []promotions.Summary `json:"items"`
}

// promotions lists every promotion with its entries counted by stored
// state and by effective state at at= (default now); grants.all is
// reported once, with its effective state, as `promoctl promotions` does.
func (s *Server) promotions(w http.ResponseWriter, r *http.Request) {
	at, err := s.atParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return
	}
	snap := s.snapshot(w)
	if snap == nil {
		return
	}
	rows := snap.Read().Promotions()
	out := promotionsBody{At: at, Total: len(rows), Items: make([]promotions.Summary, 0, len(rows))}
	for _, p := range rows {
		out.Items = append(out.Items, p.Summarize(at))
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, out)
}

// atParam reads at= (an RFC 3339 instant; default now).
func (s *Server) atParam(r *http.Request) (time.Time, error) {
	raw := r.URL.Query().Get("at")
	if raw == "" || raw == "now" {
		return s.now().UTC(), nil
	}
	t, err := promotions.ParseTime(raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("at: %v", err)
	}
	return t, nil
}

// promotionBody is a promotion as compiled, in the field names of its YAML.
type promotionBody struct {
	ID            string           `json:"id"`
	Name          string           `json:"name"`
	Description   string           `json:"description,omitempty"`
	Status        string           `json:"status"`
	DeactivatedAt *time.Time       `json:"deactivated_at,omitempty"`
	Feature       string           `json:"feature"`
	FeatureType   string           `json:"feature_type"`
	Window        windowBody       `json:"window"`
	Duration      *durationBody    `json:"duration"`
	Metered       *meteredBody     `json:"metered,omitempty"`
	Eligibility   *eligibilityBody `json:"eligibility"`
	IsApplied     bool             `json:"is_applied"`
	Grants        grantsBody       `json:"grants"`
	Granted       int              `json:"granted"`
	Revoked       int              `json:"revoked"`
	File          string           `json:"file"`
	Revision      string           `json:"revision"`
}

type windowBody struct {
	Start *time.Time `json:"start"`
	End   *time.Time `json:"end"`
}

type durationBody struct {
	Value int    `json:"value"`
	Unit  string `json:"unit"`
}

type meteredBody struct {
	Mode      string `json:"mode"`
	Allowance any    `json:"allowance"`
	Reset     string `json:"reset"`
}

type eligibilityBody struct {
	Plans      []string            `json:"plans,omitempty"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

type grantsBody struct {
	All       *allGrantBody       `json:"all"`
	Customers []customerGrantBody `json:"customers"`
}

type allGrantBody struct {
	GrantedAt time.Time    `json:"granted_at"`
	RevokedAt *time.Time   `json:"revoked_at"`
	Previous  []periodBody `json:"previous,omitempty"`
}

type customerGrantBody struct {
	ID        string       `json:"id"`
	State     string       `json:"state"`
	GrantedAt time.Time    `json:"granted_at"`
	RevokedAt *time.Time   `json:"revoked_at"`
	Previous  []periodBody `json:"previous,omitempty"`
}

type periodBody struct {
	GrantedAt time.Time  `json:"granted_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

func periodBodies(list []promotions.Period) []periodBody {
	if len(list) == 0 {
		return nil
	}
	out := make([]periodBody, len(list))
	for i, p := range list {
		out[i] = periodBody{GrantedAt: p.GrantedAt, RevokedAt: p.RevokedAt}
	}
	return out
}

func allowanceValue(a promotions.Allowance) any {
	if a.Unlimited {
		return "unlimited"
	}
	return a.Value
}

func (s *Server) promotion(w http.ResponseWriter, r *http.Request) {
	snap, row := s.promotionRow(w, r)
	if row == nil {
		return
	}
	p := row.Promotion
	out := promotionBody{
		ID: p.ID, Name: p.Name, Description: p.Description, Status: string(p.Status), DeactivatedAt: p.DeactivatedAt,
		Feature: p.Feature, FeatureType: string(p.FeatureType), Window: windowBody{Start: p.Window.Start, End: p.Window.End},
		IsApplied: p.IsApplied, Granted: row.Granted, Revoked: row.Revoked, File: p.File, Revision: snap.Revision,
		Grants: grantsBody{Customers: make([]customerGrantBody, 0, len(p.Grants.Customers))},
	}
	if p.Duration != nil {
		out.Duration = &durationBody{Value: p.Duration.Value, Unit: string(p.Duration.Unit)}
	}
	if p.Metered != nil {
		out.Metered = &meteredBody{Mode: string(p.Metered.Mode), Allowance: allowanceValue(p.Metered.Allowance), Reset: string(p.Metered.Reset)}
	}
	if p.Eligibility != nil {
		out.Eligibility = &eligibilityBody{Plans: p.Eligibility.Plans, Attributes: p.Eligibility.Attributes}
	}
	if all := p.Grants.All; all != nil {
		out.Grants.All = &allGrantBody{GrantedAt: all.GrantedAt, RevokedAt: all.RevokedAt, Previous: periodBodies(all.Previous)}
	}
	for _, g := range p.Grants.Customers {
		out.Grants.Customers = append(out.Grants.Customers, customerGrantBody{ID: g.ID, State: string(g.State), GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt, Previous: periodBodies(g.Previous)})
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, out)
}

// promotionCustomers lists who holds a promotion, as `promoctl customers`
// does (promotions.AccessList): every grants.customers entry, plus — when
// the repo has a customer directory — every eligible directory customer
// covered by grants.all without an entry of their own, each with its
// effective state at at= (default now). state=granted lists active and
// scheduled grants, state=revoked expired and revoked ones; effective=
// picks one effective state.
func (s *Server) promotionCustomers(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	state := params.Get("state")
	if state != "" && state != string(promotions.StateGranted) && state != string(promotions.StateRevoked) {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, fmt.Sprintf("state must be granted or revoked, not %q", state))
		return
	}
	effective := promotions.EffectiveState(params.Get("effective"))
	switch effective {
	case "", promotions.EffectiveActive, promotions.EffectiveScheduled, promotions.EffectiveExpired, promotions.EffectiveRevoked:
	default:
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, fmt.Sprintf("effective must be active, scheduled, expired or revoked, not %q", effective))
		return
	}
	at, err := s.atParam(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return
	}
	limit, err := intParam(params.Get("limit"), defaultPageSize, 1, maxPageSize, "limit")
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return
	}
	offset, err := intParam(params.Get("offset"), 0, 0, int(^uint(0)>>1), "offset")
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return
	}
	search := params.Get("search")

	snap, row := s.promotionRow(w, r)
	if row == nil {
		return
	}
	var directory map[string]*promotions.Customer
	if snap.Model.HasDirectory {
		directory = snap.Model.Customers
	}
	matched := []promotions.Access{}
	for _, it := range promotions.AccessList(row.Promotion, directory, at) {
		if it.Listed(promotions.GrantState(state), effective) && it.Matches(search) {
			matched = append(matched, it)
		}
	}
	out := listBody[promotions.Access]{Total: len(matched), Items: []promotions.Access{}}
	if offset < len(matched) {
		out.Items = matched[offset:min(offset+limit, len(matched))]
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, out)
}

func intParam(raw string, def, lo, hi int, name string) (int, error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be an integer from %d to %d, not %q", name, lo, hi, raw)
	}
	return n, nil
}

// promotionRow finds the promotion named by the path's id in the serving
// snapshot, or answers 503 NOT_READY or 404 PROMOTION_NOT_FOUND.
func (s *Server) promotionRow(w http.ResponseWriter, r *http.Request) (*snapshot.Snapshot, *snapshot.PromotionRow) {
	snap := s.snapshot(w)
	if snap == nil {
		return nil, nil
	}
	id := r.PathValue("id")
	row := snap.Read().Promotion(id)
	if row == nil {
		writeError(w, http.StatusNotFound, CodePromotionNotFound, fmt.Sprintf("promotion %q is not defined", id))
		return nil, nil
	}
	return snap, row
}
