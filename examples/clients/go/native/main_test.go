package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/examples/clients/go/internal/clienttest"
	"github.com/promoctl/promoctl/internal/sidecartest"
)

const root = "../../../.."

// The example asks a real `promoctl serve` on examples/acme, with a
// token, through the generated client. The instant is explicit, so the
// answers hold whatever the day.
func TestNativeClientOnAcme(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("native-token\n"), 0o600))
	sc := sidecartest.Start(t, sidecartest.Build(t), clienttest.AcmeCopy(t, root), "--token-file", tokenFile)

	tests := []struct {
		name string
		args []string
		want string
		err  string
	}{
		{name: "one metered decision", args: []string{"-customer", "cus_001", "-feature", "api_calls", "-at", "2026-04-25T12:00:00Z"},
			want: "cus_001 api_calls at 2026-04-25T12:00:00Z: access, allowance 70000 mixed\n" +
				"  plan starter 10000 monthly, replaced by migration-burst\n" +
				"  promotion migration-burst 20000 daily\n" +
				"  promotion spring-api-boost 50000 monthly\n" +
				"  bucket promotion:migration-burst:2026-04-20T00:00:00Z: 20000 daily, from 2026-04-25T00:00:00Z until 2026-04-26T00:00:00Z\n" +
				"  bucket promotion:spring-api-boost:2026-03-02T09:00:00Z: 50000 monthly, from 2026-04-02T09:00:00Z until 2026-05-02T09:00:00Z\n"},
		{name: "a boolean decision", args: []string{"-customer", "cus_005", "-feature", "sso", "-at", "2026-04-01T00:00:00Z"},
			want: "cus_005 sso at 2026-04-01T00:00:00Z: access\n  promotion sso-for-growth\n"},
		{name: "every feature", args: []string{"-customer", "cus_003", "-at", "2026-04-25T12:00:00Z"},
			want: "cus_003 api_calls at 2026-04-25T12:00:00Z: access, unlimited monthly\n  plan enterprise unlimited monthly\n" +
				"  bucket plan: unlimited monthly, from 2026-04-01T00:00:00Z until 2026-05-01T00:00:00Z\n" +
				"cus_003 audit_log at 2026-04-25T12:00:00Z: access\n  plan enterprise\n" +
				"cus_003 priority_support at 2026-04-25T12:00:00Z: access\n  plan enterprise\n" +
				"cus_003 seats at 2026-04-25T12:00:00Z: access, allowance 500 never\n  plan enterprise 500 never\n  bucket plan: 500 never\n" +
				"cus_003 sso at 2026-04-25T12:00:00Z: access\n  plan enterprise\n" +
				"cus_003 storage_gb at 2026-04-25T12:00:00Z: access, allowance 2000 never\n  plan enterprise 2000 never\n  bucket plan: 2000 never\n"},
		{name: "an unknown feature", args: []string{"-customer", "cus_001", "-feature", "nope"},
			err: `FEATURE_NOT_FOUND: feature "nope" is not defined at revision `},
		{name: "a bad instant", args: []string{"-customer", "cus_001", "-at", "soon"},
			err: `INVALID_ARGUMENT: at: "soon" is not an RFC 3339 timestamp`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"-promoctl-url", sc.URL, "-token", "native-token"}, tt.args...), &out)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, out.String())
		})
	}

	t.Run("a wrong token", func(t *testing.T) {
		err := run(context.Background(), []string{"-promoctl-url", sc.URL, "-token", "wrong", "-customer", "cus_001"}, &bytes.Buffer{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), "UNAUTHENTICATED")
	})
}

// On a generated repo, every decision the generated client decodes holds
// every field of the sidecar's answer: encoded again, it is the answer
// (null and absent fields aside).
func TestNativeClientOnGeneratedRepo(t *testing.T) {
	repo := clienttest.Generated(t)
	sc := sidecartest.Start(t, sidecartest.Build(t), repo)
	client, err := newClient(sc.URL, "")
	require.NoError(t, err)
	compared := 0
	for _, customer := range clienttest.Customers(20) {
		decisions, err := decide(context.Background(), client, customer, "", "")
		require.NoError(t, err)
		require.NotEmpty(t, decisions)
		for _, d := range decisions {
			// The answers are for now: ask with the instant the client got.
			var raw map[string]any
			target := "/v1/customers/" + url.PathEscape(customer) + "/entitlements/" + url.PathEscape(d.Feature) +
				"?at=" + url.QueryEscape(d.At.Format("2006-01-02T15:04:05.999999999Z07:00"))
			require.Equal(t, 200, sc.GetJSON(t, target, &raw))
			encoded, err := json.Marshal(d)
			require.NoError(t, err)
			var again map[string]any
			require.NoError(t, json.Unmarshal(encoded, &again))
			assert.Equal(t, withoutNulls(raw), withoutNulls(again), "%s %s", customer, d.Feature)
			compared++
		}
	}
	t.Logf("%d decisions compared", compared)
}

// withoutNulls drops the keys whose value is null, at every depth.
func withoutNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if x != nil {
				out[k] = withoutNulls(x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = withoutNulls(x)
		}
		return out
	}
	return v
}
