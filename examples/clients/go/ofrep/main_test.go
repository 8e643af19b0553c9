package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/ofrep"
	"github.com/promoctl/promoctl/examples/clients/go/gate"
	"github.com/promoctl/promoctl/examples/clients/go/internal/clienttest"
	"github.com/promoctl/promoctl/internal/sidecartest"
)

const root = "../../../.."

// The service gates routes through the Go OFREP provider against a real
// `promoctl serve` on examples/acme, with a token. The cases hold at any
// time: their sources have no end.
func TestOFREPServiceOnAcme(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("go-token\n"), 0o600))
	sc := sidecartest.Start(t, sidecartest.Build(t), clienttest.AcmeCopy(t, root), "--token-file", tokenFile)
	base := clienttest.Start(t, run, "-promoctl-url", sc.URL, "-token", "go-token")

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

// A wrong token is an error the provider reports, with the default value.
func TestOFREPServiceWrongToken(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("go-token\n"), 0o600))
	sc := sidecartest.Start(t, sidecartest.Build(t), clienttest.AcmeCopy(t, root), "--token-file", tokenFile)
	base := clienttest.Start(t, run, "-promoctl-url", sc.URL, "-token", "wrong")
	assert.Equal(t, http.StatusForbidden, clienttest.SSO(t, base, "cus_005"))
	assert.Equal(t, "GENERAL", clienttest.Quota(t, base, "cus_003", "api_calls", "").Error)
}

// On a generated repo the service answers as the sidecar's native API does.
func TestOFREPServiceOnGeneratedRepo(t *testing.T) {
	repo := clienttest.Generated(t)
	sc := sidecartest.Start(t, sidecartest.Build(t), repo)
	base := clienttest.Start(t, run, "-promoctl-url", sc.URL)
	clienttest.SameQuotas(t, base, sc, repo, clienttest.Customers(40))
}
