package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// maxSafeInteger stands for an unlimited allowance: the largest integer a
// JSON number keeps exactly in JavaScript (Number.MAX_SAFE_INTEGER).
const maxSafeInteger = 9007199254740991

type ofrepRequest struct {
	Context json.RawMessage `json:"context"`
}

type ofrepFlag struct {
	Key      string         `json:"key"`
	Value    any            `json:"value"`
	Reason   string         `json:"reason"`
	Variant  string         `json:"variant"`
	Metadata map[string]any `json:"metadata"`
}

type ofrepError struct {
	Key          string `json:"key,omitempty"`
	ErrorCode    string `json:"errorCode"`
	ErrorDetails string `json:"errorDetails,omitempty"`
}

type ofrepBulkBody struct {
	Flags []ofrepFlag `json:"flags"`
}

// ofrepQuery reads the evaluation context: targetingKey is the customer,
// "plan" the plan, and every other string value an attribute. Values of
// other JSON types are ignored: attributes are strings (SPEC §2).
func (s *Server) ofrepQuery(w http.ResponseWriter, r *http.Request, key string) (evaluator.Query, bool) {
	fail := func(status int, code, details string) (evaluator.Query, bool) {
		writeJSON(w, status, ofrepError{Key: key, ErrorCode: code, ErrorDetails: details})
		return evaluator.Query{}, false
	}
	var req ofrepRequest
	if err := decodeBody(w, r, s.maxBody, &req, false); err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return fail(http.StatusRequestEntityTooLarge, "GENERAL", err.Error())
		}
		return fail(http.StatusBadRequest, "PARSE_ERROR", err.Error())
	}
	var ctx map[string]any
	if len(req.Context) > 0 && string(req.Context) != "null" {
		if err := json.Unmarshal(req.Context, &ctx); err != nil {
			return fail(http.StatusBadRequest, "INVALID_CONTEXT", "context must be a JSON object")
		}
	}
	q := evaluator.Query{At: s.now().UTC()}
	switch tk := ctx["targetingKey"].(type) {
	case nil:
		return fail(http.StatusBadRequest, "TARGETING_KEY_MISSING", "context.targetingKey (the customer id) is required")
	case string:
		if tk == "" {
			return fail(http.StatusBadRequest, "TARGETING_KEY_MISSING", "context.targetingKey (the customer id) is empty")
		}
		if len(tk) > maxIDLength {
			return fail(http.StatusBadRequest, "INVALID_CONTEXT", fmt.Sprintf("context.targetingKey is longer than %d characters", maxIDLength))
		}
		q.Customer = tk
	default:
		return fail(http.StatusBadRequest, "INVALID_CONTEXT", "context.targetingKey must be a string")
	}
	for k, v := range ctx {
		str, ok := v.(string)
		if !ok || k == "targetingKey" {
			continue
		}
		if k == "plan" {
			q.Plan = str
			continue
		}
		if q.Attributes == nil {
			q.Attributes = map[string]string{}
		}
		q.Attributes[k] = str
	}
	return q, true
}

func (s *Server) ofrepNotReady(w http.ResponseWriter, key string) *snapshot.Snapshot {
	snap := s.src.Snapshot()
	if snap == nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, ofrepError{Key: key, ErrorCode: "GENERAL", ErrorDetails: "no valid snapshot loaded yet"})
	}
	return snap
}

func (s *Server) ofrepSingle(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	q, ok := s.ofrepQuery(w, r, key)
	if !ok {
		return
	}
	snap := s.ofrepNotReady(w, key)
	if snap == nil {
		return
	}
	q.Feature = key
	d, err := evaluator.Decide(snap, q)
	if errors.Is(err, evaluator.ErrFeatureNotFound) {
		writeJSON(w, http.StatusNotFound, ofrepError{Key: key, ErrorCode: "FLAG_NOT_FOUND", ErrorDetails: fmt.Sprintf("no feature %q", key)})
		return
	}
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ofrepError{Key: key, ErrorCode: "GENERAL", ErrorDetails: err.Error()})
		return
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, ofrepFlagOf(d))
}

// ofrepBulk evaluates every feature. Its ETag is the revision plus a hash of
// the answer: decisions also change with time (a grant starts or expires)
// while the revision stays, and If-None-Match must not hide that.
func (s *Server) ofrepBulk(w http.ResponseWriter, r *http.Request) {
	q, ok := s.ofrepQuery(w, r, "")
	if !ok {
		return
	}
	snap := s.ofrepNotReady(w, "")
	if snap == nil {
		return
	}
	features := snap.Read().Features()
	out := ofrepBulkBody{Flags: make([]ofrepFlag, 0, len(features))}
	for _, f := range features {
		q.Feature = f.Key
		d, err := evaluator.Decide(snap, q)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, ofrepError{ErrorCode: "GENERAL", ErrorDetails: err.Error()})
			return
		}
		out.Flags = append(out.Flags, ofrepFlagOf(d))
	}
	body, err := json.Marshal(out)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, ofrepError{ErrorCode: "GENERAL", ErrorDetails: "cannot encode the answer"})
		return
	}
	h := fnv.New64a()
	_, _ = h.Write(body) // a hash.Hash never fails to write
	tag := snap.Revision + "." + strconv.FormatUint(h.Sum64(), 36)
	setETag(w, tag)
	if matchesETag(r.Header.Get("If-None-Match"), tag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeBody(w, http.StatusOK, body)
}

// ofrepFlagOf maps a decision to an OFREP evaluation (SPEC §6).
func ofrepFlagOf(d evaluator.Decision) ofrepFlag {
	f := ofrepFlag{Key: d.Feature, Reason: "DEFAULT", Variant: variant(d), Metadata: map[string]any{}}
	if d.Promoted {
		f.Reason = "TARGETING_MATCH"
	}
	if d.FeatureType != promotions.FeatureMetered {
		f.Value = d.HasAccess
		return f
	}
	if d.Allowance.Unlimited {
		f.Value = int64(maxSafeInteger)
	} else {
		f.Value = min(d.Allowance.Value, maxSafeInteger)
	}
	f.Metadata["has_access"] = d.HasAccess
	f.Metadata["unlimited"] = d.Allowance.Unlimited
	f.Metadata["reset"] = string(d.Reset)
	return f
}

// variant names the winning source: for a metered feature the override in
// force, else the first contributing promotion, else the plan; "default"
// when nothing applies. Promotions are "promotion:<id>", plans "plan:<key>".
func variant(d evaluator.Decision) string {
	if d.Override != "" {
		return "promotion:" + d.Override
	}
	for _, src := range d.Sources {
		if src.Kind == "promotion" {
			return "promotion:" + src.ID
		}
	}
	if len(d.Sources) > 0 {
		return "plan:" + d.Sources[0].ID
	}
	return "default"
}
