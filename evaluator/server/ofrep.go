package server

import (
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/ofrep"
)

// The mapping between decisions and OFREP evaluations is package ofrep's,
// shared with the in-process provider; this file is only HTTP.

type ofrepRequest struct {
	Context json.RawMessage `json:"context"`
}

// ofrepStatus is the HTTP status of each error code.
var ofrepStatus = map[ofrep.ErrorCode]int{
	ofrep.ParseError:          http.StatusBadRequest,
	ofrep.TargetingKeyMissing: http.StatusBadRequest,
	ofrep.InvalidContext:      http.StatusBadRequest,
	ofrep.FlagNotFound:        http.StatusNotFound,
}

func writeOFREPError(w http.ResponseWriter, status int, key string, e *ofrep.Error) {
	if status == 0 {
		status = ofrepStatus[e.Code]
		if status == 0 {
			status = http.StatusInternalServerError
		}
	}
	writeJSON(w, status, e.Body(key))
}

// ofrepQuery reads the request's evaluation context (see package ofrep).
func (s *Server) ofrepQuery(w http.ResponseWriter, r *http.Request, key string) (evaluator.Query, bool) {
	var req ofrepRequest
	if err := decodeBody(w, r, s.maxBody, &req, false); err != nil {
		if errors.Is(err, errBodyTooLarge) {
			writeOFREPError(w, http.StatusRequestEntityTooLarge, key, &ofrep.Error{Code: ofrep.General, Details: err.Error()})
			return evaluator.Query{}, false
		}
		writeOFREPError(w, 0, key, &ofrep.Error{Code: ofrep.ParseError, Details: err.Error()})
		return evaluator.Query{}, false
	}
	var ctx map[string]any
	if len(req.Context) > 0 && string(req.Context) != "null" {
		if err := json.Unmarshal(req.Context, &ctx); err != nil {
			writeOFREPError(w, 0, key, &ofrep.Error{Code: ofrep.InvalidContext, Details: "context must be a JSON object"})
			return evaluator.Query{}, false
		}
	}
	q, qerr := ofrep.Query(ctx, key, s.now().UTC())
	if qerr != nil {
		writeOFREPError(w, 0, key, qerr)
		return evaluator.Query{}, false
	}
	return q, true
}

func (s *Server) ofrepNotReady(w http.ResponseWriter, key string) *snapshot.Snapshot {
	snap := s.src.Snapshot()
	if snap == nil {
		w.Header().Set("Retry-After", "1")
		writeOFREPError(w, http.StatusServiceUnavailable, key, &ofrep.Error{Code: ofrep.General, Details: "no valid snapshot loaded yet"})
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
	flag, ferr := ofrep.Decide(snap, q)
	if ferr != nil {
		writeOFREPError(w, 0, key, ferr)
		return
	}
	setETag(w, snap.Revision)
	writeJSON(w, http.StatusOK, flag.Evaluation())
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
	out := ofrep.Bulk{Flags: make([]ofrep.Evaluation, 0, len(features))}
	for _, f := range features {
		q.Feature = f.Key
		flag, ferr := ofrep.Decide(snap, q)
		if ferr != nil && ferr.Code == ofrep.InvalidContext {
			writeOFREPError(w, 0, "", ferr) // the caller's context, not the server, is wrong
			return
		}
		if ferr != nil {
			writeOFREPError(w, http.StatusInternalServerError, "", ferr)
			return
		}
		out.Flags = append(out.Flags, flag.Evaluation())
	}
	body, err := marshalJSON(out)
	if err != nil {
		writeOFREPError(w, http.StatusInternalServerError, "", &ofrep.Error{Code: ofrep.General, Details: "cannot encode the answer"})
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
	writeBody(w, http.StatusOK, append(body, '\n'))
}
