package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/source/repo"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

// clock is the fixed "now" of these tests, inside the example's campaigns.
var clock = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

type fixture struct {
	srv   *Server
	store *store.Store
	root  string
}

func newFixture(t *testing.T, token string) *fixture {
	t.Helper()
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS("../../examples/acme")))
	st := store.New(repo.NewLoader(root, promotions.Limits{}, nil), nil)
	require.Equal(t, store.Swapped, st.Reload(context.Background()))
	return &fixture{srv: New(Config{Source: st, Token: token, Now: func() time.Time { return clock }}), store: st, root: root}
}

type response struct {
	code   int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
	return v
}

func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, ok := r.json(t)["error"].(map[string]any)
	require.True(t, ok, "error body: %s", r.body)
	return e["code"].(string)
}

func (f *fixture) do(t *testing.T, method, target, body string, header ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	f.srv.ServeHTTP(rec, req)
	return response{code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

type expectedDecision struct {
	Name           string   `json:"name"`
	Customer       string   `json:"customer"`
	Feature        string   `json:"feature"`
	At             string   `json:"at"`
	HasAccess      bool     `json:"has_access"`
	Allowance      *int64   `json:"allowance"`
	Unlimited      *bool    `json:"unlimited"`
	Reset          *string  `json:"reset"`
	ValidUntil     *string  `json:"valid_until"`
	Contributing   []string `json:"contributing_promotions"`
	ExpectedStatus int      `json:"-"`
}

func loadOracle(t *testing.T) []expectedDecision {
	t.Helper()
	raw, err := os.ReadFile("../../examples/acme/expected_decisions.json")
	require.NoError(t, err)
	var cases []expectedDecision
	require.NoError(t, json.Unmarshal(raw, &cases))
	require.NotEmpty(t, cases)
	return cases
}

func TestEntitlementMatchesOracle(t *testing.T) {
	f := newFixture(t, "")
	rev := f.store.Status().Revision
	for _, c := range loadOracle(t) {
		t.Run(c.Name, func(t *testing.T) {
			r := f.do(t, "GET", fmt.Sprintf("/v1/customers/%s/entitlements/%s?at=%s", c.Customer, c.Feature, c.At), "")
			require.Equal(t, http.StatusOK, r.code, "%s", r.body)
			assert.Equal(t, `"`+rev+`"`, r.header.Get("ETag"))
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			var got struct {
				HasAccess  bool    `json:"has_access"`
				Allowance  *int64  `json:"allowance"`
				Unlimited  *bool   `json:"unlimited"`
				Reset      *string `json:"reset"`
				ValidUntil *string `json:"valid_until"`
				Revision   string  `json:"revision"`
				Sources    []struct {
					Kind string `json:"kind"`
					ID   string `json:"id"`
				} `json:"sources"`
			}
			require.NoError(t, json.Unmarshal(r.body, &got))
			assert.Equal(t, c.HasAccess, got.HasAccess)
			assert.Equal(t, c.Allowance, got.Allowance)
			assert.Equal(t, c.Unlimited, got.Unlimited)
			assert.Equal(t, c.Reset, got.Reset)
			assert.Equal(t, c.ValidUntil, got.ValidUntil)
			assert.Equal(t, rev, got.Revision)
			promos := []string{}
			for _, s := range got.Sources {
				if s.Kind == "promotion" {
					promos = append(promos, s.ID)
				}
			}
			sort.Strings(promos)
			assert.Equal(t, c.Contributing, promos)
		})
	}
}

func TestEntitlementQueryOverrides(t *testing.T) {
	f := newFixture(t, "")
	// An unknown customer with plan and attributes from the query: growth
	// is eligible for sso-for-growth's grants.all.
	r := f.do(t, "GET", "/v1/customers/new_user/entitlements/sso?plan=growth&attr.region=eu", "")
	require.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, true, r.json(t)["has_access"])
	// cus_001 is starter; as growth the grants.all applies.
	r = f.do(t, "GET", "/v1/customers/cus_001/entitlements/sso?plan=growth", "")
	assert.Equal(t, true, r.json(t)["has_access"])
	// cus_001's spring-api-boost needs region eu|us.
	r = f.do(t, "GET", "/v1/customers/cus_001/entitlements/api_calls?at=2026-04-01T00:00:00Z&attr.region=apac", "")
	assert.EqualValues(t, 10000, r.json(t)["allowance"])
}

func TestErrors(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct {
		name, method, target, body string
		code                       int
		errCode                    string
	}{
		{"unknown feature", "GET", "/v1/customers/cus_001/entitlements/nope", "", 404, "FEATURE_NOT_FOUND"},
		{"bad at", "GET", "/v1/customers/cus_001/entitlements/sso?at=yesterday", "", 400, "INVALID_ARGUMENT"},
		{"empty attr name", "GET", "/v1/customers/cus_001/entitlements/sso?attr.=x", "", 400, "INVALID_ARGUMENT"},
		{"unknown route", "GET", "/v2/anything", "", 404, "NOT_FOUND"},
		{"unknown promotion", "GET", "/v1/promotions/nope", "", 404, "PROMOTION_NOT_FOUND"},
		{"unknown promotion customers", "GET", "/v1/promotions/nope/customers", "", 404, "PROMOTION_NOT_FOUND"},
		{"bad state", "GET", "/v1/promotions/sso-for-growth/customers?state=maybe", "", 400, "INVALID_ARGUMENT"},
		{"bad limit", "GET", "/v1/promotions/sso-for-growth/customers?limit=0", "", 400, "INVALID_ARGUMENT"},
		{"evaluate not JSON", "POST", "/v1/evaluate", "{", 400, "INVALID_ARGUMENT"},
		{"evaluate unknown field", "POST", "/v1/evaluate", `{"querys":[]}`, 400, "INVALID_ARGUMENT"},
		{"evaluate empty", "POST", "/v1/evaluate", `{"queries":[]}`, 400, "INVALID_ARGUMENT"},
		{"evaluate missing feature", "POST", "/v1/evaluate", `{"queries":[{"customer":"c"}]}`, 400, "INVALID_ARGUMENT"},
		{"evaluate bad at", "POST", "/v1/evaluate", `{"queries":[{"customer":"c","feature":"sso","at":"x"}]}`, 400, "INVALID_ARGUMENT"},
		{"evaluate too many", "POST", "/v1/evaluate", `{"queries":[` + strings.Repeat(`{"customer":"c","feature":"sso"},`, MaxEvaluateQueries) + `{"customer":"c","feature":"sso"}]}`, 400, "INVALID_ARGUMENT"},
		{"body too large", "POST", "/v1/evaluate", `{"queries":[` + strings.Repeat(" ", DefaultMaxBodyBytes) + `]}`, 413, "PAYLOAD_TOO_LARGE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, tt.method, tt.target, tt.body)
			assert.Equal(t, tt.code, r.code, "%s", r.body)
			assert.Equal(t, tt.errCode, r.errorCode(t))
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
		})
	}
}

func TestWrongMethodIs405WithAllow(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct{ method, target, allow string }{
		{"POST", "/v1/status", "GET, HEAD"},
		{"DELETE", "/v1/customers/c/entitlements/sso", "GET, HEAD"},
		{"GET", "/v1/evaluate", "POST"},
		{"GET", "/ofrep/v1/evaluate/flags/sso", "POST"},
		{"PUT", "/healthz", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			r := f.do(t, tt.method, tt.target, "")
			assert.Equal(t, http.StatusMethodNotAllowed, r.code)
			assert.Equal(t, tt.allow, r.header.Get("Allow"))
			assert.Equal(t, "METHOD_NOT_ALLOWED", r.errorCode(t))
		})
	}
}

func TestEvaluateKeepsOrderAndReportsUnknownFeature(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "POST", "/v1/evaluate", `{"queries":[
		{"customer":"cus_001","feature":"api_calls","at":"2026-04-25T12:00:00Z"},
		{"customer":"cus_001","feature":"nope"},
		{"customer":"cus_005","feature":"sso"}]}`)
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	assert.NotEmpty(t, r.header.Get("ETag"))
	results := r.json(t)["results"].([]any)
	require.Len(t, results, 3)
	first := results[0].(map[string]any)
	assert.EqualValues(t, 70000, first["allowance"])
	second := results[1].(map[string]any)
	assert.Equal(t, "FEATURE_NOT_FOUND", second["error"].(map[string]any)["code"])
	third := results[2].(map[string]any)
	assert.Equal(t, "sso", third["feature"])
	assert.Equal(t, true, third["has_access"])
	assert.Equal(t, clock.Format(time.RFC3339), third["at"], "no at: the server's now")
}

func TestCustomerEntitlementsListsEveryFeature(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/customers/cus_012/entitlements?at=2026-05-01T00:00:00Z", "")
	require.Equal(t, http.StatusOK, r.code)
	body := r.json(t)
	assert.Equal(t, "cus_012", body["customer"])
	list := body["entitlements"].([]any)
	require.Len(t, list, 6)
	byFeature := map[string]map[string]any{}
	for _, e := range list {
		m := e.(map[string]any)
		byFeature[m["feature"].(string)] = m
	}
	assert.Equal(t, true, byFeature["storage_gb"]["unlimited"])
	assert.Equal(t, true, byFeature["sso"]["has_access"], "grants.all of sso-for-growth")
}

func TestPromotions(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/promotions", "")
	require.Equal(t, http.StatusOK, r.code)
	body := r.json(t)
	assert.EqualValues(t, 9, body["total"])
	var boost map[string]any
	for _, it := range body["items"].([]any) {
		if m := it.(map[string]any); m["id"] == "spring-api-boost" {
			boost = m
		}
	}
	require.NotNil(t, boost)
	assert.Equal(t, "api_calls", boost["feature"])
	assert.EqualValues(t, 5, boost["granted"])
	assert.EqualValues(t, 1, boost["revoked"])
	assert.Equal(t, true, boost["is_applied"])

	r = f.do(t, "GET", "/v1/promotions/storage-unlimited-pilot", "")
	require.Equal(t, http.StatusOK, r.code)
	p := r.json(t)
	assert.Equal(t, "unlimited", p["metered"].(map[string]any)["allowance"])
	assert.Nil(t, p["window"].(map[string]any)["start"])
	assert.Equal(t, "promotions/storage-unlimited-pilot.yaml", p["file"])
	assert.Equal(t, map[string]any{"value": 8.0, "unit": "weeks"}, p["duration"])
}

func TestPromotionCustomers(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct {
		name, query string
		total       int
		ids         []string
	}{
		{"entries and grants.all coverage", "", 10, []string{"cus_002", "cus_005", "cus_006", "cus_009", "cus_012", "cus_015", "cus_016", "cus_019", "cus_023", "cus_024"}},
		{"state", "state=revoked", 1, []string{"cus_019"}},
		{"search name, any case", "search=LOTUS", 1, []string{"cus_024"}},
		{"search email", "search=identity@", 1, []string{"cus_019"}},
		{"page", "limit=3&offset=8", 10, []string{"cus_023", "cus_024"}},
		{"offset past the end", "offset=50", 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "GET", "/v1/promotions/sso-for-growth/customers?"+tt.query, "")
			require.Equal(t, http.StatusOK, r.code, "%s", r.body)
			body := r.json(t)
			assert.EqualValues(t, tt.total, body["total"])
			ids := []string{}
			for _, it := range body["items"].([]any) {
				ids = append(ids, it.(map[string]any)["id"].(string))
			}
			assert.Equal(t, tt.ids, ids)
		})
	}
	r := f.do(t, "GET", "/v1/promotions/sso-for-growth/customers?search=cus_019", "")
	item := r.json(t)["items"].([]any)[0].(map[string]any)
	assert.Equal(t, map[string]any{
		"id": "cus_019", "name": "Mesa Verde Telehealth", "email": "identity@example.com", "state": "revoked",
		"effective": "revoked", "eligible": true, "via": "entry", "ends_at": nil,
		"granted_at": "2026-03-01T00:00:00Z", "revoked_at": "2026-03-18T15:00:00Z",
		"periods": []any{map[string]any{"granted_at": "2026-03-01T00:00:00Z", "ends_at": "2026-03-18T15:00:00Z", "revoked_at": "2026-03-18T15:00:00Z"}},
	}, item)
	r = f.do(t, "GET", "/v1/promotions/sso-for-growth/customers?search=cus_002", "")
	item = r.json(t)["items"].([]any)[0].(map[string]any)
	assert.Equal(t, "all", item["via"])
	assert.Equal(t, "granted", item["state"])
	assert.Nil(t, item["revoked_at"])
}

func TestNotReady(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.CopyFS(root, os.DirFS("../../examples/acme")))
	require.NoError(t, os.WriteFile(filepath.Join(root, "features/bad.yaml"), []byte("kind: Feature\nkey: BAD\n"), 0o644))
	st := store.New(repo.NewLoader(root, promotions.Limits{}, nil), nil)
	require.Equal(t, store.Failed, st.Reload(context.Background()))
	f := &fixture{srv: New(Config{Source: st}), store: st, root: root}

	r := f.do(t, "GET", "/readyz", "")
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	r = f.do(t, "GET", "/healthz", "")
	assert.Equal(t, http.StatusOK, r.code)
	r = f.do(t, "GET", "/v1/customers/cus_001/entitlements/sso", "")
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	assert.Equal(t, "NOT_READY", r.errorCode(t))
	assert.Equal(t, "1", r.header.Get("Retry-After"))
	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"cus_001"}}`)
	assert.Equal(t, http.StatusServiceUnavailable, r.code)
	assert.Equal(t, "GENERAL", r.json(t)["errorCode"])

	r = f.do(t, "GET", "/v1/status", "")
	require.Equal(t, http.StatusOK, r.code)
	status := r.json(t)
	assert.Equal(t, false, status["ready"])
	last := status["last_reload"].(map[string]any)
	assert.Equal(t, false, last["ok"])
	errs := last["errors"].([]any)
	require.NotEmpty(t, errs)
	assert.Equal(t, "features/bad.yaml", errs[0].(map[string]any)["file"])
}

func TestStatusAfterLoad(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/status", "")
	require.Equal(t, http.StatusOK, r.code)
	status := r.json(t)
	assert.Equal(t, true, status["ready"])
	assert.Equal(t, f.store.Status().Revision, status["revision"])
	assert.EqualValues(t, 26, status["counts"].(map[string]any)["customers"])
	assert.Equal(t, true, status["last_reload"].(map[string]any)["ok"])
	assert.EqualValues(t, 1, status["reloads"].(map[string]any)["ok"])
	assert.NotNil(t, status["loaded_at"])
}

func TestTokenAuth(t *testing.T) {
	f := newFixture(t, "s3cret")
	tests := []struct {
		name, target string
		header       []string
		code         int
	}{
		{"missing", "/v1/status", nil, 401},
		{"wrong bearer", "/v1/status", []string{"Authorization", "Bearer nope"}, 401},
		{"wrong scheme", "/v1/status", []string{"Authorization", "Basic s3cret"}, 401},
		{"wrong api key", "/v1/status", []string{"X-API-Key", "s3cre"}, 401},
		{"bearer", "/v1/status", []string{"Authorization", "Bearer s3cret"}, 200},
		{"bearer any case", "/v1/status", []string{"Authorization", "bearer s3cret"}, 200},
		{"api key", "/v1/status", []string{"X-API-Key", "s3cret"}, 200},
		{"wrong method still needs a token", "/v1/evaluate", nil, 401},
		{"health is open", "/healthz", nil, 200},
		{"readiness is open", "/readyz", nil, 200},
		{"metrics are open", "/metrics", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "GET", tt.target, "", tt.header...)
			assert.Equal(t, tt.code, r.code, "%s", r.body)
			if tt.code == 401 {
				assert.Equal(t, "UNAUTHENTICATED", r.errorCode(t))
				assert.NotContains(t, string(r.body), "s3cret")
			}
		})
	}
	r := f.do(t, "POST", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"cus_005"}}`)
	assert.Equal(t, 401, r.code, "OFREP needs the token too")
	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"cus_005"}}`, "X-API-Key", "s3cret")
	assert.Equal(t, 200, r.code)
}

func TestOFREPSingle(t *testing.T) {
	f := newFixture(t, "")
	rev := f.store.Status().Revision
	tests := []struct {
		name, key, context string
		code               int
		want               map[string]any
	}{
		{"boolean from grants.all", "sso", `{"targetingKey":"cus_005"}`, 200,
			map[string]any{"key": "sso", "value": true, "reason": "TARGETING_MATCH", "variant": "promotion:sso-for-growth", "metadata": map[string]any{}}},
		{"boolean without access", "sso", `{"targetingKey":"cus_001"}`, 200,
			map[string]any{"key": "sso", "value": false, "reason": "DEFAULT", "variant": "default", "metadata": map[string]any{}}},
		{"boolean from the plan", "audit_log", `{"targetingKey":"cus_002"}`, 200,
			map[string]any{"key": "audit_log", "value": true, "reason": "DEFAULT", "variant": "plan:growth", "metadata": map[string]any{}}},
		{"metered override plus additive", "api_calls", `{"targetingKey":"cus_001"}`, 200,
			map[string]any{"key": "api_calls", "value": 70000.0, "reason": "TARGETING_MATCH", "variant": "promotion:migration-burst",
				"metadata": map[string]any{"has_access": true, "unlimited": false, "reset": "mixed", "next_reset": "2026-05-02T00:00:00Z"}}},
		{"metered additive", "api_calls", `{"targetingKey":"cus_014"}`, 200,
			map[string]any{"key": "api_calls", "value": 60000.0, "reason": "TARGETING_MATCH", "variant": "promotion:spring-api-boost",
				"metadata": map[string]any{"has_access": true, "unlimited": false, "reset": "monthly", "next_reset": "2026-05-05T14:00:00Z"}}},
		{"metered unlimited plan", "api_calls", `{"targetingKey":"cus_003"}`, 200,
			map[string]any{"key": "api_calls", "value": 9007199254740991.0, "reason": "DEFAULT", "variant": "plan:enterprise",
				"metadata": map[string]any{"has_access": true, "unlimited": true, "reset": "monthly", "next_reset": "2026-06-01T00:00:00Z"}}},
		{"metered override wins the variant", "storage_gb", `{"targetingKey":"cus_012"}`, 200,
			map[string]any{"key": "storage_gb", "value": 9007199254740991.0, "reason": "TARGETING_MATCH", "variant": "promotion:storage-unlimited-pilot",
				"metadata": map[string]any{"has_access": true, "unlimited": true, "reset": "never", "next_reset": "2026-05-27T08:00:00Z"}}},
		{"context plan and attributes", "api_calls", `{"targetingKey":"someone","plan":"starter","region":"eu","seats":3}`, 200,
			map[string]any{"key": "api_calls", "value": 10000.0, "reason": "DEFAULT", "variant": "plan:starter",
				"metadata": map[string]any{"has_access": true, "unlimited": false, "reset": "monthly", "next_reset": "2026-06-01T00:00:00Z"}}},
		{"unknown flag", "nope", `{"targetingKey":"cus_001"}`, 404, map[string]any{"key": "nope", "errorCode": "FLAG_NOT_FOUND"}},
		{"missing targeting key", "sso", `{"plan":"growth"}`, 400, map[string]any{"key": "sso", "errorCode": "TARGETING_KEY_MISSING"}},
		{"empty targeting key", "sso", `{"targetingKey":""}`, 400, map[string]any{"key": "sso", "errorCode": "TARGETING_KEY_MISSING"}},
		{"targeting key not a string", "sso", `{"targetingKey":7}`, 400, map[string]any{"key": "sso", "errorCode": "INVALID_CONTEXT"}},
		{"context not an object", "sso", `[1]`, 400, map[string]any{"key": "sso", "errorCode": "INVALID_CONTEXT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "POST", "/ofrep/v1/evaluate/flags/"+tt.key, `{"context":`+tt.context+`}`, "Content-Type", "application/json; charset=utf-8")
			require.Equal(t, tt.code, r.code, "%s", r.body)
			assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			got := r.json(t)
			delete(got, "errorDetails")
			assert.Equal(t, tt.want, got)
			if tt.code == 200 {
				assert.Equal(t, `"`+rev+`"`, r.header.Get("ETag"))
			}
		})
	}
	r := f.do(t, "POST", "/ofrep/v1/evaluate/flags/sso", `{"context":`)
	assert.Equal(t, 400, r.code)
	assert.Equal(t, "PARSE_ERROR", r.json(t)["errorCode"])
}

func TestOFREPBulkAndETag(t *testing.T) {
	f := newFixture(t, "")
	body := `{"context":{"targetingKey":"cus_012"}}`
	r := f.do(t, "POST", "/ofrep/v1/evaluate/flags", body)
	require.Equal(t, 200, r.code, "%s", r.body)
	etag := r.header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.True(t, strings.HasPrefix(etag, `"`+f.store.Status().Revision+"."), etag)
	flags := r.json(t)["flags"].([]any)
	require.Len(t, flags, 6)
	keys := []string{}
	for _, fl := range flags {
		keys = append(keys, fl.(map[string]any)["key"].(string))
	}
	assert.Equal(t, []string{"api_calls", "audit_log", "priority_support", "seats", "sso", "storage_gb"}, keys)

	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags", body, "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, r.code)
	assert.Empty(t, r.body)
	assert.Equal(t, etag, r.header.Get("ETag"))

	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"cus_001"}}`, "If-None-Match", etag)
	assert.Equal(t, 200, r.code, "another customer's answer differs")
	assert.NotEqual(t, etag, r.header.Get("ETag"))

	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context":{}}`)
	assert.Equal(t, 400, r.code)
	assert.Equal(t, map[string]any{"errorCode": "TARGETING_KEY_MISSING", "errorDetails": "context.targetingKey (the customer id) is required"}, r.json(t))
}

// TestBulkIfNoneMatchStarIsEvaluated: a first request with
// `If-None-Match: *` has nothing cached and gets the answer, not a 304.
func TestBulkIfNoneMatchStarIsEvaluated(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"cus_012"}}`, "If-None-Match", "*")
	require.Equal(t, http.StatusOK, r.code)
	assert.Len(t, r.json(t)["flags"], 6)
	assert.NotEmpty(t, r.header.Get("ETag"))
}

func TestBulkETagChangesWithContent(t *testing.T) {
	f := newFixture(t, "")
	body := `{"context":{"targetingKey":"cus_001"}}`
	etag := f.do(t, "POST", "/ofrep/v1/evaluate/flags", body).header.Get("ETag")

	p := filepath.Join(f.root, "promotions/spring-api-boost.yaml")
	src, err := os.ReadFile(p)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(src), "allowance: 50000", "allowance: 1", 1)), 0o644))
	require.Equal(t, store.Swapped, f.store.Reload(context.Background()))

	r := f.do(t, "POST", "/ofrep/v1/evaluate/flags", body, "If-None-Match", etag)
	require.Equal(t, 200, r.code)
	assert.NotEqual(t, etag, r.header.Get("ETag"))
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, "")
	f.do(t, "GET", "/v1/customers/cus_001/entitlements/sso", "")
	f.do(t, "GET", "/v1/customers/cus_001/entitlements/nope", "")
	r := f.do(t, "GET", "/metrics", "")
	require.Equal(t, 200, r.code)
	text := string(r.body)
	for _, want := range []string{
		`promoctl_http_requests_total{code="200",route="GET /v1/customers/{id}/entitlements/{feature}"} 1`,
		`promoctl_http_requests_total{code="404",route="GET /v1/customers/{id}/entitlements/{feature}"} 1`,
		`promoctl_http_request_duration_seconds_count{code="200",route="GET /v1/customers/{id}/entitlements/{feature}"} 1`,
		`promoctl_reloads_total{result="ok"} 1`,
		`promoctl_reloads_total{result="failed"} 0`,
		`promoctl_snapshot_info{commit="",content_hash="` + f.store.Status().ContentHash + `",revision="` + f.store.Status().Revision + `"} 1`,
		`promoctl_snapshot_objects{kind="promotions"} 9`,
		`promoctl_ready 1`,
		`promoctl_last_reload_ok 1`,
		`go_goroutines`,
	} {
		assert.Contains(t, text, want)
	}
	assert.NotContains(t, text, `promoctl_last_reload_success_timestamp_seconds 0`)
}

func TestMatchesETag(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{`"r1"`, true},
		{`W/"r1"`, true},
		{`"r0", "r1"`, true},
		{`*`, false},
		{`"r2", *`, false},
		{`"r2"`, false},
		{``, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, matchesETag(tt.header, "r1"), tt.header)
	}
}

func TestStatusShowsVersion(t *testing.T) {
	f := newFixture(t, "")
	srv := New(Config{Source: f.store, Version: "v1.2.3"})
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/status", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	var status map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &status))
	assert.Equal(t, "v1.2.3", status["version"])
}

// fixedStatus is a Source that serves no snapshot and a given status.
type fixedStatus store.Status

func (fixedStatus) Snapshot() *snapshot.Snapshot { return nil }
func (s fixedStatus) Status() store.Status       { return store.Status(s) }

func TestStatusDirtyComesWithCommit(t *testing.T) {
	tests := []struct {
		name      string
		status    store.Status
		wantDirty any // nil: the field is absent
	}{
		{"outside git: neither commit nor dirty", store.Status{ContentHash: "sha256:1"}, nil},
		{"clean checkout", store.Status{Commit: "abc", ContentHash: "sha256:1"}, false},
		{"uncommitted changes", store.Status{Commit: "abc", Dirty: true, ContentHash: "sha256:1"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := New(Config{Source: fixedStatus(tt.status)})
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/status", nil))
			var status map[string]any
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &status))
			dirty, present := status["dirty"]
			assert.Equal(t, tt.wantDirty != nil, present, "%s", rec.Body.String())
			assert.Equal(t, tt.wantDirty, dirty)
		})
	}
}

func TestJSONKeepsHTMLCharacters(t *testing.T) {
	f := newFixture(t, "")
	for _, target := range []string{
		"/v1/promotions/spring-api-boost/customers?search=lindqvist",
		"/v1/customers/a%3Cb%3E%26c/entitlements/nope", // an error message echoing the id
	} {
		r := f.do(t, "GET", target, "")
		assert.NotContains(t, string(r.body), `\u00`, target)
	}
	r := f.do(t, "GET", "/v1/promotions/spring-api-boost/customers?search=lindqvist", "")
	assert.Contains(t, string(r.body), `"Lindqvist & Daughters Bakery"`)
	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags/a%3Cb%3E", `{"context":{"targetingKey":"cus_001"}}`)
	assert.Equal(t, http.StatusNotFound, r.code)
	assert.Contains(t, string(r.body), `a<b>`, "OFREP errors too")
}

type failingLoader struct{}

func (failingLoader) Load(context.Context) (*store.Loaded, error) {
	return nil, errors.New("GET http://bundles.invalid/acme.bundle: no such host")
}
func (failingLoader) Describe() string { return "failing" }

// TestStatusErrorCountMatchesErrors: a reload that failed without
// validation errors lists none and counts none; its error says why.
func TestStatusErrorCountMatchesErrors(t *testing.T) {
	st := store.New(failingLoader{}, nil)
	require.Equal(t, store.Failed, st.Reload(context.Background()))
	f := &fixture{srv: New(Config{Source: st}), store: st}
	last := f.do(t, "GET", "/v1/status", "").json(t)["last_reload"].(map[string]any)
	assert.Equal(t, "GET http://bundles.invalid/acme.bundle: no such host", last["error"])
	assert.Equal(t, []any{}, last["errors"])
	assert.EqualValues(t, 0, last["error_count"])
}
