package main

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promoctl/promoctl/evaluator/ofrep"
	"github.com/promoctl/promoctl/examples/clients/go/gate"
	"github.com/promoctl/promoctl/examples/clients/go/internal/clienttest"
	"github.com/promoctl/promoctl/internal/sidecartest"
)

const root = "../../../.."

// The service gates routes with the in-process provider on examples/acme.
// The cases hold at any time: their sources have no end.
func TestInProcessServiceOnAcme(t *testing.T) {
	base := clienttest.Start(t, run, "-repo", clienttest.AcmeCopy(t, root))

	assert.Equal(t, http.StatusOK, clienttest.SSO(t, base, "cus_005"), "sso-for-growth, grants.all")
	assert.Equal(t, http.StatusForbidden, clienttest.SSO(t, base, "cus_001"), "starter without a promotion")
	assert.Equal(t, http.StatusForbidden, clienttest.SSO(t, base, ""), "no customer: the default wins")

	tests := []struct {
		name, customer, feature, plan string
		want                          gate.Quota
	}{
		{"unlimited plan", "cus_003", "api_calls", "",
			gate.Quota{Customer: "cus_003", Feature: "api_calls", Allowance: ofrep.Unlimited, Reason: "DEFAULT", Variant: "plan:enterprise"}},
		{"plan from the context", "new_user", "api_calls", "starter",
			gate.Quota{Customer: "new_user", Feature: "api_calls", Allowance: 10000, Reason: "DEFAULT", Variant: "plan:starter"}},
		{"unknown feature", "cus_001", "no_such_feature", "",
			gate.Quota{Customer: "cus_001", Feature: "no_such_feature", Reason: "ERROR", Error: "FLAG_NOT_FOUND"}},
		{"boolean feature read as a number", "cus_005", "sso", "",
			gate.Quota{Customer: "cus_005", Feature: "sso", Reason: "ERROR", Error: "TYPE_MISMATCH"}},
		{"no customer", "", "api_calls", "",
			gate.Quota{Feature: "api_calls", Reason: "ERROR", Error: "TARGETING_KEY_MISSING"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, clienttest.Quota(t, base, tt.customer, tt.feature, tt.plan))
		})
	}
}

// On a generated repo the service answers as the sidecar's native API does.
func TestInProcessServiceOnGeneratedRepo(t *testing.T) {
	repo := clienttest.Generated(t)
	sc := sidecartest.Start(t, sidecartest.Build(t), repo)
	base := clienttest.Start(t, run, "-repo", repo)
	clienttest.SameQuotas(t, base, sc, repo, clienttest.Customers(40))
}
