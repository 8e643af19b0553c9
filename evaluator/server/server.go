package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/ofrep"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
)

// Source is what the server reads: the serving snapshot (nil until the
// first good load) and the store's status.
type Source interface {
	Snapshot() *snapshot.Snapshot
	Status() store.Status
}

// Limits of a request.
const (
	DefaultMaxBodyBytes = 1 << 20 // 1 MiB
	MaxEvaluateQueries  = 1000
	defaultPageSize     = 100
	maxPageSize         = 1000
	maxIDLength         = ofrep.MaxTargetingKeyLength // one limit for ids, whichever route
)

// Config configures a server.
type Config struct {
	Source Source
	// Token, when set, is required on every /v1 and /ofrep route as
	// "Authorization: Bearer <token>" or "X-API-Key: <token>".
	Token string
	Log   *slog.Logger
	// Now is the clock for decisions without an explicit time.
	Now          func() time.Time
	MaxBodyBytes int64
	// Version of the binary, shown in /v1/status.
	Version string
	// Usage answers the usage routes; nil is usage disabled (501).
	Usage *meter.Meter
	// UsageNeedsToken refuses the usage routes: the sidecar listens off
	// loopback without a token.
	UsageNeedsToken bool
	// UsageTokenHint, when set, ends that refusal with how this program
	// is given a token (its command words it: the server knows no flags).
	UsageTokenHint string
}

// Server is the sidecar's HTTP handler.
type Server struct {
	src       Source
	tokenHash *[sha256.Size]byte
	log       *slog.Logger
	now       func() time.Time
	maxBody   int64
	mux       *http.ServeMux
	metrics   *metrics
	etags     atomic.Pointer[etagOf]
	version   string
	usage     *meter.Meter
	// usageNeedsToken: see Config.UsageNeedsToken.
	usageNeedsToken bool
	usageTokenHint  string
	// registered lists the "METHOD /pattern" of every route, in the order
	// they were handed to the mux.
	registered []string
}

// New builds the handler with its routes and its own metrics registry.
func New(cfg Config) *Server {
	s := &Server{src: cfg.Source, log: cfg.Log, now: cfg.Now, maxBody: cfg.MaxBodyBytes, mux: http.NewServeMux(), version: cfg.Version}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if cfg.Token != "" {
		h := sha256.Sum256([]byte(cfg.Token))
		s.tokenHash = &h
	}
	s.metrics = newMetrics(cfg.Source)
	s.usage, s.usageNeedsToken, s.usageTokenHint = cfg.Usage, cfg.UsageNeedsToken, cfg.UsageTokenHint
	if s.usage == nil {
		s.usage = meter.New(nil, nil, meter.Options{})
	} else {
		s.metrics.addUsage(s.usage)
	}
	s.routes()
	return s
}

// Registry is the Prometheus registry /metrics serves.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.registry }

// ServeHTTP serves a request, recording it in the metrics under the route
// pattern that matched (bounded cardinality, unlike raw paths).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := recorders.Get().(*statusRecorder)
	*rec = statusRecorder{ResponseWriter: w, code: http.StatusOK}
	route := ""
	defer func() {
		if route == "" {
			route = r.Pattern
		}
		if p := recover(); p != nil {
			s.log.Error("handler panicked", slog.String("route", route), slog.Any("panic", p))
			if !rec.wrote {
				writeError(rec, http.StatusInternalServerError, CodeInternal, "internal error")
			}
		}
		s.metrics.observe(route, rec.code, time.Since(start))
		*rec = statusRecorder{}
		recorders.Put(rec)
	}()
	if !cleanPath(r.URL.EscapedPath()) {
		refuseUncleanPath(rec, r)
		return
	}
	// The single-decision route is the sidecar's hot path: it is matched
	// here by hand, which saves ServeMux's path matching and the path
	// values it allocates. Anything else, and any path this match does not
	// take as plainly as ServeMux would, goes through the mux.
	if customer, feature, ok := decisionPath(r); ok {
		route = decisionRoute
		if s.authorized(rec, r) {
			s.decision(rec, r, customer, feature)
		}
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// decisionRoute is the pattern of the single-decision route.
const decisionRoute = "GET /v1/customers/{id}/entitlements/{feature}"

// decisionPath matches a GET of /v1/customers/{id}/entitlements/{feature}
// whose path has no escapes (an escaped path is unescaped segment by
// segment by ServeMux, which the mux then does).
func decisionPath(r *http.Request) (customer, feature string, ok bool) {
	if r.Method != http.MethodGet || r.URL.RawPath != "" {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/customers/")
	if !ok {
		return "", "", false
	}
	customer, rest, ok = strings.Cut(rest, "/")
	if !ok || customer == "" || strings.IndexByte(customer, '%') >= 0 {
		return "", "", false
	}
	feature, ok = strings.CutPrefix(rest, "entitlements/")
	if !ok || feature == "" || strings.IndexByte(feature, '/') >= 0 || strings.IndexByte(feature, '%') >= 0 {
		return "", "", false
	}
	return customer, feature, true
}

// recorders recycles the status recorders of requests: one per request was
// a heap allocation on the hot path.
var recorders = sync.Pool{New: func() any { return new(statusRecorder) }}

// HTTPServer wraps a handler in an http.Server with the sidecar's timeouts.
func HTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	srv := &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	if log != nil {
		srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	}
	return srv
}

type route struct {
	method  string
	pattern string
	handler http.HandlerFunc
	open    bool // no token needed
}

func (s *Server) routes() {
	table := []route{
		{"GET", "/v1/customers/{id}/entitlements/{feature}", s.entitlement, false},
		{"GET", "/v1/customers/{id}/entitlements", s.entitlements, false},
		{"GET", "/v1/customers/{id}", s.customer, false},
		{"GET", "/v1/features", s.features, false},
		{"GET", "/v1/plans", s.plans, false},
		{"POST", "/v1/evaluate", s.evaluate, false},
		{"GET", "/v1/promotions", s.promotions, false},
		{"GET", "/v1/promotions/{id}", s.promotion, false},
		{"GET", "/v1/promotions/{id}/customers", s.promotionCustomers, false},
		{"GET", "/v1/status", s.status, false},
		{"POST", "/v1/usage/consume", s.usageConsume, false},
		{"POST", "/v1/usage/check", s.usageCheck, false},
		{"POST", "/v1/usage/release", s.usageRelease, false},
		{"POST", "/v1/usage/batch", s.usageBatch, false},
		{"GET", "/v1/customers/{id}/usage/{feature}", s.usageRead, false},
		{"POST", "/ofrep/v1/evaluate/flags/{key}", s.ofrepSingle, false},
		{"POST", "/ofrep/v1/evaluate/flags", s.ofrepBulk, false},
		{"GET", "/healthz", s.healthz, true},
		{"GET", "/readyz", s.readyz, true},
		{"GET", "/metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP, true},
		{"GET", "/openapi.json", s.openAPI, true},
	}
	allowed := map[string][]string{}
	for _, rt := range table {
		h := rt.handler
		if !rt.open {
			h = s.authenticated(h)
		}
		s.mux.HandleFunc(rt.method+" "+rt.pattern, h)
		s.registered = append(s.registered, rt.method+" "+rt.pattern)
		s.metrics.addRoute(rt.method + " " + rt.pattern)
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	for pattern, methods := range allowed {
		allow := methodsAllowed(methods)
		var h http.HandlerFunc = func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, fmt.Sprintf("%s is not allowed here; use %s", r.Method, allow))
		}
		if strings.HasPrefix(pattern, "/v1/") || strings.HasPrefix(pattern, "/ofrep/") {
			h = s.authenticated(h)
		}
		s.mux.HandleFunc(pattern, h)
		s.metrics.addRoute(pattern)
	}
	s.metrics.addRoute("/")
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no route for "+r.URL.Path)
	})
}

// Routes lists the routes the server serves, as "METHOD /pattern" in
// ServeMux's syntax, as they were registered (the fallbacks that answer 404
// and 405 aside). The OpenAPI document names each of them.
func (s *Server) Routes() []string { return append([]string(nil), s.registered...) }

func methodsAllowed(methods []string) string {
	out := append([]string(nil), methods...)
	for _, m := range methods {
		if m == "GET" {
			out = append(out, "HEAD")
		}
	}
	return strings.Join(out, ", ")
}

// authenticated requires the token when one is configured.
func (s *Server) authenticated(next http.HandlerFunc) http.HandlerFunc {
	if s.tokenHash == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		if s.authorized(w, r) {
			next(w, r)
		}
	}
}

// authorized reports whether the request may proceed, answering 401 when
// not. Both sides are hashed first so the comparison takes the same time
// whatever the length.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	if s.tokenHash == nil {
		return true
	}
	given, ok := presentedToken(r)
	if ok {
		h := sha256.Sum256([]byte(given))
		ok = subtle.ConstantTimeCompare(h[:], s.tokenHash[:]) == 1
	}
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="promoctl"`)
		writeError(w, http.StatusUnauthorized, CodeUnauthenticated, "a valid token is required (Authorization: Bearer <token> or X-API-Key)")
	}
	return ok
}

func presentedToken(r *http.Request) (string, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, found := strings.Cut(auth, " ")
		if found && strings.EqualFold(scheme, "Bearer") && token != "" {
			return strings.TrimSpace(token), true
		}
		return "", false
	}
	if key := r.Header.Get("X-API-Key"); key != "" {
		return key, true
	}
	return "", false
}

// statusRecorder remembers the status code for metrics.
type statusRecorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
