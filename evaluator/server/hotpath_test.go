package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/store"
)

// The single-decision route writes its answer without encoding/json: these
// tests pin that the bytes and headers are what the generic path gave.

func TestDecisionAnswerEqualsCompactJSON(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct{ name, target, customer, feature string }{
		{"metered with promotions", "/v1/customers/cus_001/entitlements/api_calls", "cus_001", "api_calls"},
		{"boolean", "/v1/customers/cus_001/entitlements/sso", "cus_001", "sso"},
		{"unknown customer", "/v1/customers/nobody/entitlements/api_calls", "nobody", "api_calls"},
		{"id to escape", "/v1/customers/a%22b%5C/entitlements/api_calls", `a"b\`, "api_calls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "GET", tt.target, "")
			require.Equal(t, http.StatusOK, r.code, "%s", r.body)

			d, err := evaluator.Decide(f.store.Snapshot(), evaluator.Query{Customer: tt.customer, Feature: tt.feature, At: clock})
			require.NoError(t, err)
			want, err := json.Marshal(d) // validates and compacts
			require.NoError(t, err)
			assert.Equal(t, string(want)+"\n", string(r.body))
		})
	}
}

func TestDecisionAnswerHeaders(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/customers/cus_001/entitlements/api_calls", "")
	require.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, "application/json", r.header.Get("Content-Type"))
	assert.Equal(t, "no-store", r.header.Get("Cache-Control"))
	assert.Equal(t, `"`+f.store.Status().Revision+`"`, r.header.Get("ETag"))
	assert.Equal(t, strconv.Itoa(len(r.body)), r.header.Get("Content-Length"))
}

func TestDecisionETagFollowsReloads(t *testing.T) {
	f := newFixture(t, "")
	before := f.do(t, "GET", "/v1/customers/cus_001/entitlements/api_calls", "").header.Get("ETag")

	p := filepath.Join(f.root, "promotions/spring-api-boost.yaml")
	src, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(src), "allowance: 50000", "allowance: 1", 1)), 0o644))
	require.Equal(t, store.Swapped, f.store.Reload(context.Background()))

	after := f.do(t, "GET", "/v1/customers/cus_001/entitlements/api_calls", "").header.Get("ETag")
	assert.NotEqual(t, before, after)
	assert.Equal(t, `"`+f.store.Status().Revision+`"`, after)
}

// Pooled buffers must never leak one answer into another.
func TestConcurrentDecisionsKeepTheirOwnAnswers(t *testing.T) {
	f := newFixture(t, "")
	ts := httptest.NewServer(f.srv)
	defer ts.Close()
	targets := []string{
		"/v1/customers/cus_001/entitlements/api_calls",
		"/v1/customers/cus_002/entitlements/api_calls",
		"/v1/customers/cus_001/entitlements/sso",
		"/v1/customers/nobody/entitlements/seats",
	}
	want := make([][]byte, len(targets))
	for i, target := range targets {
		want[i] = f.do(t, "GET", target, "").body
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*50)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(targets)
				resp, err := http.Get(ts.URL + targets[k])
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !bytes.Equal(body, want[k]) {
					errs <- targets[k] + ": " + string(body)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestMetricsCountRepeatedRequestsPerRouteAndCode(t *testing.T) {
	f := newFixture(t, "")
	for range 3 {
		f.do(t, "GET", "/v1/customers/cus_001/entitlements/sso", "")
	}
	f.do(t, "GET", "/v1/customers/cus_001/entitlements/nope", "")
	f.do(t, "DELETE", "/v1/status", "")
	f.do(t, "GET", "/no/such/route", "")
	text := string(f.do(t, "GET", "/metrics", "").body)
	for _, want := range []string{
		`promoctl_http_requests_total{code="200",route="GET /v1/customers/{id}/entitlements/{feature}"} 3`,
		`promoctl_http_request_duration_seconds_count{code="200",route="GET /v1/customers/{id}/entitlements/{feature}"} 3`,
		`promoctl_http_requests_total{code="404",route="GET /v1/customers/{id}/entitlements/{feature}"} 1`,
		`promoctl_http_requests_total{code="405",route="/v1/status"} 1`,
		`promoctl_http_requests_total{code="404",route="/"} 1`,
	} {
		assert.Contains(t, text, want)
	}
}

func TestMetricsObserversAreCachedPerRouteAndCode(t *testing.T) {
	m := newMetrics(nil)
	m.addRoute("GET /x")
	tests := []struct {
		name        string
		route       string
		code        int
		sameAsFirst bool
	}{
		{"a known route and code is cached", "GET /x", 200, true},
		{"an unmatched request is cached", "", 404, true},
		{"an unknown route is not", "GET /unknown", 200, false},
		{"an out-of-range code is not", "GET /x", 999, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, second := m.observers(tt.route, tt.code), m.observers(tt.route, tt.code)
			assert.Equal(t, tt.sameAsFirst, first == second)
			assert.Same(t, first.requests, second.requests, "the same series either way")
		})
	}
}

// The single-decision route is matched by hand before ServeMux: whatever
// the path, method or token, the answer must be the one the mux gives.
func TestDecisionRouteAnswersAsTheMuxDoes(t *testing.T) {
	const token = "s3cret"
	f := newFixture(t, token)
	tests := []struct{ name, method, target, token string }{
		{"plain", "GET", "/v1/customers/cus_001/entitlements/api_calls", token},
		{"with a query", "GET", "/v1/customers/cus_001/entitlements/api_calls?at=2026-03-01T00:00:00Z&attr.region=eu", token},
		{"bad query", "GET", "/v1/customers/cus_001/entitlements/api_calls?explain=maybe", token},
		{"unknown feature", "GET", "/v1/customers/cus_001/entitlements/nope", token},
		{"unknown customer", "GET", "/v1/customers/nobody/entitlements/sso", token},
		{"unknown plan", "GET", "/v1/customers/cus_001/entitlements/sso?plan=enterprize", token},
		{"no token", "GET", "/v1/customers/cus_001/entitlements/api_calls", ""},
		{"wrong token", "GET", "/v1/customers/cus_001/entitlements/api_calls", "nope"},
		{"HEAD", "HEAD", "/v1/customers/cus_001/entitlements/api_calls", token},
		{"POST", "POST", "/v1/customers/cus_001/entitlements/api_calls", token},
		{"escaped id", "GET", "/v1/customers/a%22b%5C/entitlements/api_calls", token},
		{"escaped slash in the id", "GET", "/v1/customers/a%2Fb/entitlements/api_calls", token},
		{"percent in the id", "GET", "/v1/customers/a%25b/entitlements/api_calls", token},
		{"trailing slash", "GET", "/v1/customers/cus_001/entitlements/api_calls/", token},
		{"one more segment", "GET", "/v1/customers/cus_001/entitlements/api_calls/x", token},
		{"no feature", "GET", "/v1/customers/cus_001/entitlements/", token},
		{"the list route", "GET", "/v1/customers/cus_001/entitlements", token},
		{"other word", "GET", "/v1/customers/cus_001/entitlement/api_calls", token},
		{"id too long", "GET", "/v1/customers/" + strings.Repeat("x", maxIDLength+1) + "/entitlements/sso", token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			request := func() *http.Request {
				req := httptest.NewRequest(tt.method, tt.target, nil)
				if tt.token != "" {
					req.Header.Set("Authorization", "Bearer "+tt.token)
				}
				return req
			}
			served, muxed := httptest.NewRecorder(), httptest.NewRecorder()
			f.srv.ServeHTTP(served, request())
			f.srv.mux.ServeHTTP(muxed, request())
			assert.Equal(t, muxed.Code, served.Code)
			assert.Equal(t, muxed.Body.String(), served.Body.String())
			assert.Equal(t, muxed.Header(), served.Header())
		})
	}
}

func TestDecisionPath(t *testing.T) {
	tests := []struct {
		name, method, target string
		customer, feature    string
		ok                   bool
	}{
		{"plain", "GET", "/v1/customers/c/entitlements/f", "c", "f", true},
		{"query ignored", "GET", "/v1/customers/c/entitlements/f?at=now", "c", "f", true},
		{"escape the mux decodes", "GET", "/v1/customers/a%22b/entitlements/f", `a"b`, "f", true},
		{"HEAD goes to the mux", "HEAD", "/v1/customers/c/entitlements/f", "", "", false},
		{"escaped slash goes to the mux", "GET", "/v1/customers/a%2Fb/entitlements/f", "", "", false},
		{"percent goes to the mux", "GET", "/v1/customers/a%25b/entitlements/f", "", "", false},
		{"empty feature", "GET", "/v1/customers/c/entitlements/", "", "", false},
		{"extra segment", "GET", "/v1/customers/c/entitlements/f/g", "", "", false},
		{"other route", "GET", "/v1/customers/c", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			customer, feature, ok := decisionPath(httptest.NewRequest(tt.method, tt.target, nil))
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.customer, customer)
			assert.Equal(t, tt.feature, feature)
		})
	}
}
