package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

// snapshot returns the serving snapshot or answers 503 NOT_READY.
func (s *Server) snapshot(w http.ResponseWriter) *snapshot.Snapshot {
	snap := s.src.Snapshot()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, CodeNotReady, store.ErrNotReady.Error()+"; see /v1/status")
	}
	return snap
}

func validID(what, id string) error {
	if id == "" || len(id) > maxIDLength {
		return fmt.Errorf("%s must be 1 to %d characters", what, maxIDLength)
	}
	return nil
}

// queryFromURL reads at, plan and attr.<key> parameters.
func (s *Server) queryFromURL(customer string, params url.Values) (evaluator.Query, error) {
	q := evaluator.Query{Customer: customer, At: s.now().UTC()}
	if err := validID("customer id", customer); err != nil {
		return q, err
	}
	if at := params.Get("at"); at != "" && at != "now" {
		t, err := promotions.ParseTime(at)
		if err != nil {
			return q, fmt.Errorf("at: %v", err)
		}
		q.At = t
	}
	q.Plan = params.Get("plan")
	switch params.Get("explain") {
	case "", "false":
	case "true":
		q.Explain = true
	default:
		return q, fmt.Errorf("explain must be true or false, not %q", params.Get("explain"))
	}
	for key, values := range params {
		name, ok := strings.CutPrefix(key, "attr.")
		if !ok {
			continue
		}
		if name == "" {
			return q, errors.New("attr. needs a name: attr.region=eu")
		}
		if q.Attributes == nil {
			q.Attributes = map[string]string{}
		}
		q.Attributes[name] = values[len(values)-1]
	}
	return q, nil
}

func (s *Server) entitlement(w http.ResponseWriter, r *http.Request) {
	s.decision(w, r, r.PathValue("id"), r.PathValue("feature"))
}

// decision answers the single-decision route for a customer and feature
// taken from the path.
func (s *Server) decision(w http.ResponseWriter, r *http.Request, customer, feature string) {
	var params url.Values // most callers send no parameters: parse nothing then
	if r.URL.RawQuery != "" {
		params = r.URL.Query()
	}
	q, err := s.queryFromURL(customer, params)
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return
	}
	q.Feature = feature
	snap := s.snapshot(w)
	if snap == nil {
		return
	}
	d, err := evaluator.Decide(snap, q)
	if errors.Is(err, evaluator.ErrFeatureNotFound) {
		writeError(w, http.StatusNotFound, CodeFeatureNotFound, fmt.Sprintf("feature %q is not defined at revision %s", q.Feature, snap.Revision))
		return
	}
	if unknownPlan(w, err) {
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
		return
	}
	writeDecision(w, s.etag(snap.Revision), d)
}

type entitlementsBody struct {
	Customer     string               `json:"customer"`
	At           time.Time            `json:"at"`
	Revision     string               `json:"revision"`
	Entitlements []evaluator.Decision `json:"entitlements"`
}

// customerQuery reads the query of a route under /v1/customers/{id} and
// the serving snapshot, or answers the request itself (400, 503) and
// returns false.
func (s *Server) customerQuery(w http.ResponseWriter, r *http.Request) (evaluator.Query, *snapshot.Snapshot, bool) {
	q, err := s.queryFromURL(r.PathValue("id"), r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return q, nil, false
	}
	snap := s.snapshot(w)
	return q, snap, snap != nil
}

func (s *Server) entitlements(w http.ResponseWriter, r *http.Request) {
	q, snap, ok := s.customerQuery(w, r)
	if !ok {
		return
	}
	features := snap.Read().Features()
	out := entitlementsBody{Customer: q.Customer, At: q.At, Revision: snap.Revision, Entitlements: make([]evaluator.Decision, 0, len(features))}
	for _, f := range features {
		q.Feature = f.Key
		d, err := evaluator.Decide(snap, q)
		if unknownPlan(w, err) {
			return
		}
		if err != nil {
			writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
			return
		}
		out.Entitlements = append(out.Entitlements, d)
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, out)
}

type evaluateRequest struct {
	Queries []evaluateQuery `json:"queries"`
}

type evaluateQuery struct {
	Customer   string            `json:"customer"`
	Feature    string            `json:"feature"`
	At         string            `json:"at,omitempty"`
	Plan       string            `json:"plan,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	Explain    bool              `json:"explain,omitempty"`
}

// evaluateResult is a decision, or an error for a query whose feature the
// snapshot does not know (one bad query does not fail the batch).
type evaluateResult struct {
	decision          *evaluator.Decision
	customer, feature string
	err               *errorDetail
}

func (e evaluateResult) MarshalJSON() ([]byte, error) {
	if e.decision != nil {
		return e.decision.MarshalJSON()
	}
	return marshalJSON(struct {
		Customer string       `json:"customer"`
		Feature  string       `json:"feature"`
		Error    *errorDetail `json:"error"`
	}{e.customer, e.feature, e.err})
}

func (s *Server) evaluate(w http.ResponseWriter, r *http.Request) {
	var req evaluateRequest
	if err := decodeBody(w, r, s.maxBody, &req, true); err != nil {
		if errors.Is(err, errBodyTooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, err.Error())
			return
		}
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return
	}
	if len(req.Queries) == 0 {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, `body must be {"queries":[{"customer":…,"feature":…}]} with at least one query`)
		return
	}
	if len(req.Queries) > MaxEvaluateQueries {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, fmt.Sprintf("%d queries, more than the limit of %d", len(req.Queries), MaxEvaluateQueries))
		return
	}
	now := s.now().UTC()
	queries := make([]evaluator.Query, len(req.Queries))
	for i, in := range req.Queries {
		q := evaluator.Query{Customer: in.Customer, Feature: in.Feature, At: now, Plan: in.Plan, Attributes: in.Attributes, Explain: in.Explain}
		if err := validID("customer", in.Customer); err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidArgument, fmt.Sprintf("queries[%d]: %v", i, err))
			return
		}
		if err := validID("feature", in.Feature); err != nil {
			writeError(w, http.StatusBadRequest, CodeInvalidArgument, fmt.Sprintf("queries[%d]: %v", i, err))
			return
		}
		if in.At != "" && in.At != "now" {
			t, err := promotions.ParseTime(in.At)
			if err != nil {
				writeError(w, http.StatusBadRequest, CodeInvalidArgument, fmt.Sprintf("queries[%d].at: %v", i, err))
				return
			}
			q.At = t
		}
		queries[i] = q
	}
	snap := s.snapshot(w)
	if snap == nil {
		return
	}
	results := make([]evaluateResult, len(queries))
	for i, q := range queries {
		d, err := evaluator.Decide(snap, q)
		switch {
		case errors.Is(err, evaluator.ErrFeatureNotFound):
			results[i] = evaluateResult{customer: q.Customer, feature: q.Feature, err: &errorDetail{Code: CodeFeatureNotFound, Message: fmt.Sprintf("feature %q is not defined", q.Feature)}}
		case errors.As(err, new(*evaluator.UnknownPlanError)):
			results[i] = evaluateResult{customer: q.Customer, feature: q.Feature, err: &errorDetail{Code: CodeUnknownPlan, Message: err.Error()}}
		case err != nil:
			writeError(w, http.StatusInternalServerError, CodeInternal, err.Error())
			return
		default:
			results[i] = evaluateResult{decision: &d}
		}
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	snap := s.src.Snapshot()
	if snap == nil {
		writeError(w, http.StatusServiceUnavailable, CodeNotReady, store.ErrNotReady.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready", "revision": snap.Revision})
}

type statusBody struct {
	Version     string           `json:"version,omitempty"`
	Ready       bool             `json:"ready"`
	Revision    string           `json:"revision"`
	Commit      string           `json:"commit,omitempty"`
	Dirty       *bool            `json:"dirty,omitempty"` // present with commit
	ContentHash string           `json:"content_hash"`
	LoadedAt    *time.Time       `json:"loaded_at"`
	Counts      snapshot.Counts  `json:"counts"`
	LastReload  *reloadBody      `json:"last_reload"`
	LastSuccess *time.Time       `json:"last_success"`
	Reloads     reloadCountsBody `json:"reloads"`
	Source      sourceBody       `json:"source"`
	Bundle      *bundleBody      `json:"bundle,omitempty"`
	Usage       *usageStatusBody `json:"usage"`
}

type sourceBody struct {
	Kind      string            `json:"kind"`
	Location  string            `json:"location"`
	VerifyKey string            `json:"verify_key,omitempty"`
	LastFetch *fetchBody        `json:"last_fetch,omitempty"`
	Fetches   *reloadCountsBody `json:"fetches,omitempty"`
}

type fetchBody struct {
	OK          bool      `json:"ok"`
	At          time.Time `json:"at"`
	DurationMS  float64   `json:"duration_ms"`
	NotModified bool      `json:"not_modified"`
	Error       string    `json:"error,omitempty"`
}

// bundleBody describes the serving bundle; time is its commit's.
type bundleBody struct {
	Time     *time.Time `json:"time"`
	SignedBy string     `json:"signed_by,omitempty"`
	Verified bool       `json:"verified"`
	SHA256   string     `json:"sha256"`
}

type reloadBody struct {
	OK         bool                        `json:"ok"`
	At         time.Time                   `json:"at"`
	DurationMS float64                     `json:"duration_ms"`
	Revision   string                      `json:"revision,omitempty"`
	Files      int                         `json:"files"`
	Parsed     int                         `json:"parsed"`
	Error      string                      `json:"error,omitempty"`
	ErrorCount int                         `json:"error_count"`
	Errors     []promotions.JSONDiagnostic `json:"errors"`
}

type reloadCountsBody struct {
	OK     uint64 `json:"ok"`
	Failed uint64 `json:"failed"`
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	st := s.src.Status()
	out := statusBody{
		Version: s.version,
		Ready:   st.Ready, Revision: st.Revision, Commit: st.Commit, ContentHash: st.ContentHash,
		Counts: st.Counts, Reloads: reloadCountsBody{OK: st.ReloadsOK, Failed: st.ReloadsFailed},
		Usage: s.usageStatus(),
	}
	if st.Commit != "" {
		out.Dirty = &st.Dirty
	}
	if !st.LoadedAt.IsZero() {
		out.LoadedAt = &st.LoadedAt
	}
	src := st.Source
	out.Source = sourceBody{Kind: src.Kind, Location: src.Location, VerifyKey: src.VerifyKey}
	if f := src.LastFetch; f != nil {
		out.Source.LastFetch = &fetchBody{OK: f.OK, At: f.At, DurationMS: float64(f.Duration.Microseconds()) / 1000, NotModified: f.NotModified, Error: f.Error}
		out.Source.Fetches = &reloadCountsBody{OK: src.FetchesOK, Failed: src.FetchesFailed}
	}
	if b := st.Bundle; b != nil {
		out.Bundle = &bundleBody{SignedBy: b.SignedBy, Verified: b.Verified, SHA256: b.Hash}
		if !b.Time.IsZero() {
			out.Bundle.Time = &b.Time
		}
	}
	if !st.LastSuccess.IsZero() {
		out.LastSuccess = &st.LastSuccess
	}
	if lr := st.LastReload; lr != nil {
		rb := &reloadBody{
			OK: lr.OK, At: lr.At, DurationMS: float64(lr.Duration.Microseconds()) / 1000, Revision: lr.Revision,
			Files: lr.Files, Parsed: lr.Parsed, Error: lr.Err, ErrorCount: lr.ErrorCount,
			Errors: lr.Errors.JSON(),
		}
		out.LastReload = rb
	}
	writeJSON(w, http.StatusOK, out)
}
