package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
)

// MaxBatchOps bounds a usage batch.
const MaxBatchOps = 1000

// consumeBody is a consume or check as sent: At is read only to refuse it
// (a consume happens at the store's clock).
type consumeBody struct {
	meter.ConsumeRequest
	At *json.RawMessage `json:"at,omitempty"`
}

// usageAllowed answers the request itself and returns false when usage
// routes may not be used: without a token off loopback a consume is a
// write anyone on the network could make.
func (s *Server) usageAllowed(w http.ResponseWriter) bool {
	if s.usageNeedsToken {
		msg := "usage routes need a token when the sidecar listens off loopback, even where decisions are served without one"
		if s.usageTokenHint != "" {
			msg += " (" + s.usageTokenHint + ")"
		}
		writeError(w, http.StatusUnauthorized, CodeUnauthenticated, msg)
		return false
	}
	return true
}

func (s *Server) usageConsume(w http.ResponseWriter, r *http.Request) {
	s.consumeOrCheck(w, r, false)
}

func (s *Server) usageCheck(w http.ResponseWriter, r *http.Request) {
	s.consumeOrCheck(w, r, true)
}

func (s *Server) consumeOrCheck(w http.ResponseWriter, r *http.Request, dryRun bool) {
	if !s.usageAllowed(w) {
		return
	}
	var body consumeBody
	if err := decodeBody(w, r, s.maxBody, &body, true); err != nil {
		s.badBody(w, err)
		return
	}
	status, v := s.consumeOne(r, body, dryRun)
	writeUsage(w, status, v)
}

// consumeOne answers one consume or check: the status and the body.
func (s *Server) consumeOne(r *http.Request, body consumeBody, dryRun bool) (int, any) {
	if body.At != nil && !dryRun {
		return usageErrorBody(fmt.Errorf("%w: at is refused on a consume: it happens at the store's clock", meter.ErrInvalid))
	}
	if dryRun {
		body.IdempotencyKey = ""
	}
	a, err := s.usage.Consume(r.Context(), body.ConsumeRequest, dryRun)
	if err != nil {
		return usageErrorBody(err)
	}
	return http.StatusOK, a
}

func (s *Server) usageRelease(w http.ResponseWriter, r *http.Request) {
	if !s.usageAllowed(w) {
		return
	}
	// A release needs no decision, but a sidecar that is not ready answers
	// no usage route but batch (whose operations answer in their slots).
	if s.usage.Enabled() && s.snapshot(w) == nil {
		return
	}
	var body meter.ReleaseRequest
	if err := decodeBody(w, r, s.maxBody, &body, true); err != nil {
		s.badBody(w, err)
		return
	}
	status, v := s.releaseOne(r, body)
	writeUsage(w, status, v)
}

func (s *Server) releaseOne(r *http.Request, body meter.ReleaseRequest) (int, any) {
	a, err := s.usage.Release(r.Context(), body)
	if err != nil {
		return usageErrorBody(err)
	}
	return http.StatusOK, a
}

func (s *Server) usageRead(w http.ResponseWriter, r *http.Request) {
	if !s.usageAllowed(w) {
		return
	}
	q, err := s.queryFromURL(r.PathValue("id"), r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
		return
	}
	var at time.Time
	if v := r.URL.Query().Get("at"); v != "" && v != "now" {
		at = q.At
	}
	a, err := s.usage.Usage(r.Context(), meter.Query{Customer: q.Customer, Feature: r.PathValue("feature"), Plan: q.Plan, Attributes: q.Attributes}, at)
	if err != nil {
		status, v := usageErrorBody(err)
		writeUsage(w, status, v)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

// batchOp is one operation of a batch: a consume, check or release body
// with its op.
type batchOp struct {
	Op string `json:"op"`
	consumeBody
}

type batchBody struct {
	Ops []json.RawMessage `json:"ops"`
}

type batchAnswer struct {
	Results []any `json:"results"`
}

func (s *Server) usageBatch(w http.ResponseWriter, r *http.Request) {
	if !s.usageAllowed(w) {
		return
	}
	if !s.usage.Enabled() {
		status, v := usageErrorBody(meter.ErrDisabled)
		writeUsage(w, status, v)
		return
	}
	var body batchBody
	if err := decodeBody(w, r, s.maxBody, &body, true); err != nil {
		s.badBody(w, err)
		return
	}
	if len(body.Ops) == 0 || len(body.Ops) > MaxBatchOps {
		writeError(w, http.StatusBadRequest, CodeInvalidArgument, fmt.Sprintf("ops must hold 1 to %d operations", MaxBatchOps))
		return
	}
	out := batchAnswer{Results: make([]any, 0, len(body.Ops))}
	for i, raw := range body.Ops {
		var op batchOp
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&op); err != nil {
			_, v := usageErrorBody(fmt.Errorf("%w: ops[%d]: %v", meter.ErrInvalid, i, err))
			out.Results = append(out.Results, v)
			continue
		}
		var v any
		switch op.Op {
		case "consume":
			_, v = s.consumeOne(r, op.consumeBody, false)
		case "check":
			_, v = s.consumeOne(r, op.consumeBody, true)
		case "release":
			if op.Amount != 0 || op.At != nil || op.Plan != "" || op.Attributes != nil {
				_, v = usageErrorBody(fmt.Errorf("%w: ops[%d]: a release takes customer, feature and idempotency_key only", meter.ErrInvalid, i))
				break
			}
			_, v = s.releaseOne(r, meter.ReleaseRequest{Customer: op.Customer, Feature: op.Feature, IdempotencyKey: op.IdempotencyKey})
		default:
			_, v = usageErrorBody(fmt.Errorf("%w: ops[%d].op must be consume, check or release, not %q", meter.ErrInvalid, i, op.Op))
		}
		out.Results = append(out.Results, v)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) badBody(w http.ResponseWriter, err error) {
	if errors.Is(err, errBodyTooLarge) {
		writeError(w, http.StatusRequestEntityTooLarge, CodePayloadTooLarge, err.Error())
		return
	}
	writeError(w, http.StatusBadRequest, CodeInvalidArgument, err.Error())
}

// writeUsage writes a usage answer or error body; a 503 carries the
// breaker's Retry-After.
func writeUsage(w http.ResponseWriter, status int, v any) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, v)
}

// usageErrorBody maps a meter error to its status and error body.
func usageErrorBody(err error) (int, errorBody) {
	status, code := http.StatusInternalServerError, CodeInternal
	var unknown *evaluator.UnknownPlanError
	switch {
	case errors.Is(err, meter.ErrInvalid), errors.Is(err, meter.ErrNotMetered), errors.Is(err, evaluator.ErrTimeOutOfRange):
		status, code = http.StatusBadRequest, CodeInvalidArgument
	case errors.As(err, &unknown):
		status, code = http.StatusBadRequest, CodeUnknownPlan
	case errors.Is(err, evaluator.ErrFeatureNotFound):
		status, code = http.StatusNotFound, CodeFeatureNotFound
	case errors.Is(err, usage.ErrKeyReused):
		status, code = http.StatusConflict, CodeIdempotencyKeyReused
	case errors.Is(err, meter.ErrStoreUnavailable):
		status, code = http.StatusServiceUnavailable, CodeUsageStoreUnavailable
	case errors.Is(err, store.ErrNotReady), errors.Is(err, meter.ErrNotReady):
		status, code = http.StatusServiceUnavailable, CodeNotReady
	case errors.Is(err, meter.ErrDisabled):
		status, code = http.StatusNotImplemented, CodeUsageDisabled
	}
	return status, errorBody{Error: errorDetail{Code: code, Message: err.Error()}}
}

// usageMetrics are the usage store's metrics.
type usageMetrics struct {
	consumes *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func (m *metrics) addUsage(mt *meter.Meter) {
	um := usageMetrics{
		consumes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promoctl_usage_consumes_total",
			Help: "Usage consumes by outcome (consumed, consumed_over, denied, duplicate, degraded, unavailable).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "promoctl_usage_store_duration_seconds",
			Help:    "Usage store calls by operation and result (ok, error).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1},
		}, []string{"op", "result"}),
	}
	m.registry.MustRegister(um.consumes, um.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "promoctl_usage_spool_length", Help: "Consumes answered while the usage store was down, waiting to be replayed."},
			func() float64 { return float64(mt.SpoolLen()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "promoctl_usage_store_healthy", Help: "1 while the usage store answers (the breaker is closed)."},
			func() float64 {
				if mt.Healthy() {
					return 1
				}
				return 0
			}),
	)
	mt.Observe(meter.Observers{
		Store: func(op string, d time.Duration, err error) {
			result := "ok"
			if err != nil && !errors.Is(err, usage.ErrKeyReused) {
				var stale *usage.StaleError
				if !errors.As(err, &stale) {
					result = "error"
				}
			}
			um.latency.WithLabelValues(op, result).Observe(d.Seconds())
		},
		Outcome: func(outcome string) { um.consumes.WithLabelValues(outcome).Inc() },
	})
}

// usageStatusBody is the usage part of /v1/status.
type usageStatusBody struct {
	Store   string `json:"store"`
	Healthy bool   `json:"healthy"`
	Spool   int    `json:"spool"`
}

func (s *Server) usageStatus() *usageStatusBody {
	return &usageStatusBody{Store: s.usage.StoreName(), Healthy: s.usage.Healthy(), Spool: s.usage.SpoolLen()}
}
