package server

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expectations below are worked out by hand from examples/acme.

func TestPromotionsCountByEffectiveState(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/promotions?at=2026-05-01T00:00:00Z", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	body := r.json(t)
	assert.Equal(t, "2026-05-01T00:00:00Z", body["at"])
	byID := map[string]map[string]any{}
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		byID[m["id"].(string)] = m
	}
	counts := func(active, scheduled, expired, revoked float64) map[string]any {
		return map[string]any{"active": active, "scheduled": scheduled, "expired": expired, "revoked": revoked}
	}
	// cus_001, 014, 004, 009 inside their 3 months; cus_018 starts 05-20;
	// cus_016 revoked on 04-10.
	assert.Equal(t, counts(4, 1, 0, 1), byID["spring-api-boost"]["counts"])
	assert.EqualValues(t, 5, byID["spring-api-boost"]["granted"], "stored states are still counted")
	assert.Nil(t, byID["spring-api-boost"]["all"])
	// cus_001's 14 days end 05-04 (ending soon); cus_021 renews on 05-11.
	assert.Equal(t, counts(1, 1, 0, 0), byID["migration-burst"]["counts"])
	assert.EqualValues(t, 1, byID["migration-burst"]["ending_soon"])
	assert.Equal(t, "override", byID["migration-burst"]["mode"])
	// A revoked grants.all is not shown as granted: it expired on 02-14,
	// before its revoked_at; cus_026 was revoked, cus_008 ran its 30 days.
	assert.Equal(t, map[string]any{"effective": "expired", "ends_at": nil}, byID["audit-log-preview"]["all"])
	assert.Equal(t, counts(0, 0, 1, 1), byID["audit-log-preview"]["counts"])
	assert.Equal(t, map[string]any{"effective": "active", "ends_at": nil}, byID["sso-for-growth"]["all"])

	r = f.do(t, "GET", "/v1/promotions?at=yesterday", "")
	assert.Equal(t, http.StatusBadRequest, r.code)
	assert.Equal(t, "INVALID_ARGUMENT", r.errorCode(t))
}

func TestPromotionCustomersEffective(t *testing.T) {
	f := newFixture(t, "")
	tests := []struct {
		name, query string
		ids         []string
		effective   []string
	}{
		{"at a past instant", "at=2026-03-20T00:00:00Z", []string{"cus_001", "cus_021"}, []string{"scheduled", "active"}},
		{"between the renewed grant's periods", "at=2026-05-01T00:00:00Z", []string{"cus_001", "cus_021"}, []string{"active", "scheduled"}},
		{"effective filter", "at=2026-05-12T00:00:00Z&effective=expired", []string{"cus_001"}, []string{"expired"}},
		{"granted means active or scheduled", "at=2026-05-01T00:00:00Z&state=granted", []string{"cus_001", "cus_021"}, []string{"active", "scheduled"}},
		{"revoked means revoked or expired", "at=2026-05-12T00:00:00Z&state=revoked", []string{"cus_001"}, []string{"expired"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(t, "GET", "/v1/promotions/migration-burst/customers?"+tt.query, "")
			require.Equal(t, http.StatusOK, r.code, "%s", r.body)
			ids, effective := []string{}, []string{}
			for _, it := range r.json(t)["items"].([]any) {
				m := it.(map[string]any)
				ids = append(ids, m["id"].(string))
				effective = append(effective, m["effective"].(string))
			}
			assert.Equal(t, tt.ids, ids)
			assert.Equal(t, tt.effective, effective)
		})
	}
	r := f.do(t, "GET", "/v1/promotions/migration-burst/customers?search=cus_021&at=2026-05-12T00:00:00Z", "")
	item := r.json(t)["items"].([]any)[0].(map[string]any)
	assert.Equal(t, "2026-05-25T09:00:00Z", item["ends_at"])
	assert.Equal(t, []any{
		map[string]any{"granted_at": "2026-03-16T12:00:00Z", "ends_at": "2026-03-30T12:00:00Z", "revoked_at": nil},
		map[string]any{"granted_at": "2026-05-11T09:00:00Z", "ends_at": "2026-05-25T09:00:00Z", "revoked_at": nil},
	}, item["periods"])

	r = f.do(t, "GET", "/v1/promotions/migration-burst/customers?effective=granted", "")
	assert.Equal(t, http.StatusBadRequest, r.code)
}

func TestCustomerView(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/customers/cus_021?at=2026-05-12T00:00:00Z", "")
	require.Equal(t, http.StatusOK, r.code, "%s", r.body)
	body := r.json(t)
	assert.Equal(t, map[string]any{"id": "cus_021", "name": "Pinecone Data Labs", "email": "sam.ortiz@example.com", "plan": "starter",
		"attributes": map[string]any{"region": "us", "segment": "midmarket"}, "billing_anchor": nil}, body["customer"])
	assert.Equal(t, true, body["customer_known"])
	assert.Equal(t, []any{
		map[string]any{"id": "migration-burst", "name": "Migration burst quota", "feature": "api_calls", "via": "entry",
			"state": "granted", "effective": "active", "eligible": true, "ends_at": "2026-05-25T09:00:00Z",
			"periods": []any{
				map[string]any{"granted_at": "2026-03-16T12:00:00Z", "ends_at": "2026-03-30T12:00:00Z", "revoked_at": nil},
				map[string]any{"granted_at": "2026-05-11T09:00:00Z", "ends_at": "2026-05-25T09:00:00Z", "revoked_at": nil},
			}},
		// Starter customers are covered by the preview's grants.all, which
		// ran its 30 days before the deactivation.
		map[string]any{"id": "audit-log-preview", "name": "Audit log preview (Starter)", "feature": "audit_log", "via": "all",
			"state": "revoked", "effective": "expired", "eligible": true, "ends_at": nil,
			"periods": []any{map[string]any{"granted_at": "2026-01-15T00:00:00Z", "ends_at": "2026-02-14T00:00:00Z", "revoked_at": "2026-02-20T17:00:00Z"}}},
	}, body["promotions"])
	decisions := map[string]map[string]any{}
	for _, d := range body["decisions"].([]any) {
		m := d.(map[string]any)
		decisions[m["feature"].(string)] = m
	}
	assert.Len(t, decisions, 6, "one decision per feature")
	api := decisions["api_calls"]
	assert.EqualValues(t, 20000, api["allowance"])
	assert.Equal(t, "migration-burst", api["sources"].([]any)[0].(map[string]any)["replaced_by"])
	assert.Equal(t, []any{map[string]any{"id": "spring-api-boost", "reason": "not_granted",
		"detail": "the customer has no entry and the promotion has no grants.all"}}, api["not_contributing"])
	assert.Equal(t, "deactivated", decisions["audit_log"]["not_contributing"].([]any)[0].(map[string]any)["reason"])

	r = f.do(t, "GET", "/v1/customers/cus_404", "")
	assert.Equal(t, http.StatusNotFound, r.code)
	assert.Equal(t, "CUSTOMER_NOT_FOUND", r.errorCode(t))
	r = f.do(t, "GET", "/v1/customers/cus_021?plan=growht", "")
	assert.Equal(t, http.StatusBadRequest, r.code)
	assert.Equal(t, "UNKNOWN_PLAN", r.errorCode(t))
}

func TestCatalogue(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/features", "")
	require.Equal(t, http.StatusOK, r.code)
	items := r.json(t)["items"].([]any)
	require.Len(t, items, 6)
	assert.Equal(t, map[string]any{"key": "api_calls", "name": "API calls", "type": "metered", "unit": "call"}, items[0])
	assert.Equal(t, map[string]any{"key": "audit_log", "name": "Audit log", "type": "boolean"}, items[1], "unit only when set")

	r = f.do(t, "GET", "/v1/plans", "")
	require.Equal(t, http.StatusOK, r.code)
	plans := r.json(t)["items"].([]any)
	require.Len(t, plans, 3)
	enterprise := plans[0].(map[string]any)
	assert.Equal(t, "enterprise", enterprise["key"])
	assert.Equal(t, map[string]any{"feature": "api_calls", "allowance": "unlimited", "reset": "monthly"}, enterprise["entitlements"].([]any)[0])
	assert.Equal(t, map[string]any{"feature": "sso"}, enterprise["entitlements"].([]any)[3], "a boolean entitlement has no allowance")
}

func TestExplainAndUnknownPlanOverHTTP(t *testing.T) {
	f := newFixture(t, "")
	r := f.do(t, "GET", "/v1/customers/cus_021/entitlements/api_calls?at=2026-05-01T00:00:00Z", "")
	require.Equal(t, http.StatusOK, r.code)
	assert.NotContains(t, string(r.body), "not_contributing", "the why-not list is opt-in")

	r = f.do(t, "GET", "/v1/customers/cus_021/entitlements/api_calls?at=2026-05-01T00:00:00Z&explain=true", "")
	require.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, []any{
		map[string]any{"id": "migration-burst", "reason": "scheduled", "detail": "the customer's entry starts at 2026-05-11T09:00:00Z"},
		map[string]any{"id": "spring-api-boost", "reason": "not_granted", "detail": "the customer has no entry and the promotion has no grants.all"},
	}, r.json(t)["not_contributing"])

	r = f.do(t, "GET", "/v1/customers/cus_021/entitlements/api_calls?explain=maybe", "")
	assert.Equal(t, http.StatusBadRequest, r.code)

	r = f.do(t, "GET", "/v1/customers/cus_001/entitlements/api_calls?plan=growht", "")
	assert.Equal(t, http.StatusBadRequest, r.code)
	assert.Equal(t, "UNKNOWN_PLAN", r.errorCode(t))
	assert.Contains(t, string(r.body), "did you mean growth?")
	r = f.do(t, "GET", "/v1/customers/cus_001/entitlements?plan=growht", "")
	assert.Equal(t, "UNKNOWN_PLAN", r.errorCode(t))

	r = f.do(t, "POST", "/v1/evaluate", `{"queries":[{"customer":"cus_001","feature":"sso","plan":"growht"},{"customer":"cus_001","feature":"sso"}]}`)
	require.Equal(t, http.StatusOK, r.code)
	results := r.json(t)["results"].([]any)
	assert.Equal(t, "UNKNOWN_PLAN", results[0].(map[string]any)["error"].(map[string]any)["code"], "an error in its own slot")
	assert.Contains(t, results[1].(map[string]any), "has_access")

	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags/sso", `{"context":{"targetingKey":"cus_001","plan":"enterprize"}}`)
	assert.Equal(t, http.StatusBadRequest, r.code)
	assert.Equal(t, "INVALID_CONTEXT", r.json(t)["errorCode"])
	assert.Contains(t, r.json(t)["errorDetails"], "did you mean enterprise?")
	r = f.do(t, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"cus_001","plan":"enterprize"}}`)
	assert.Equal(t, http.StatusBadRequest, r.code)
	assert.Equal(t, "INVALID_CONTEXT", r.json(t)["errorCode"])

	r = f.do(t, "GET", "/v1/customers/ghost/entitlements/sso", "")
	assert.Equal(t, false, r.json(t)["customer_known"])
}
