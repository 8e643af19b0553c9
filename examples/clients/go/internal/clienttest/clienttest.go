// Package clienttest runs a Go client example's service in a test and
// compares its answers with the sidecar's native API.
package clienttest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/ofrep"
	"github.com/promoctl/promoctl/examples/clients/go/gate"
	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// Run is an example's run function.
type Run func(ctx context.Context, args []string, out io.Writer) error

// Start runs the service with args plus "-addr 127.0.0.1:0" and returns its
// base URL once it prints where it listens. Cleanup stops it.
func Start(t *testing.T, run Run, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append(args, "-addr", "127.0.0.1:0"), pw)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	require.NoError(t, err, "the service printed no address")
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	require.True(t, ok, "unexpected first line %q", line)
	return base
}

var client = &http.Client{Timeout: 10 * time.Second}

// SSO asks the service's /settings/sso for customer and returns the status.
func SSO(t *testing.T, base, customer string) int {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/settings/sso", nil)
	require.NoError(t, err)
	req.Header.Set("X-Customer-Id", customer)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// Quota asks the service's /quota/{feature} for customer.
func Quota(t *testing.T, base, customer, feature, plan string) gate.Quota {
	t.Helper()
	target := base + "/quota/" + url.PathEscape(feature)
	if plan != "" {
		target += "?plan=" + url.QueryEscape(plan)
	}
	req, err := http.NewRequest("GET", target, nil)
	require.NoError(t, err)
	req.Header.Set("X-Customer-Id", customer)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var q gate.Quota
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&q))
	return q
}

// AcmeCopy copies examples/acme into a temporary directory. dir is the
// path from the calling test's package to the module root.
func AcmeCopy(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(root, "examples", "acme"))))
	return dir
}

// Bundle compiles a repo directory into bundle bytes, as `promoctl build`
// does.
func Bundle(t *testing.T, repo string) []byte {
	t.Helper()
	res, err := compiler.Load(os.DirFS(repo), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "%v", res.Diagnostics)
	data, err := bundle.Encode(res.Model, bundle.Header{Revision: res.ContentHash, ContentHash: res.ContentHash}, nil)
	require.NoError(t, err)
	return data
}

// Generated writes the tiny generated repo with grants spread up to now,
// so that answers at the current time draw on promotions.
func Generated(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := repogen.Tiny
	cfg.Seed = 7
	cfg.Now = time.Now()
	require.NoError(t, repogen.Generate(dir, cfg))
	return dir
}

// MeteredFeatures lists the metered feature keys of a repo.
func MeteredFeatures(t *testing.T, repo string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo, "features", "*.yaml"))
	require.NoError(t, err)
	var out []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		if strings.Contains(string(raw), "type: metered") {
			out = append(out, strings.TrimSuffix(filepath.Base(f), ".yaml"))
		}
	}
	require.NotEmpty(t, out)
	return out
}

// Customers lists customer ids of a generated repo: the hot ones and the
// first n of the directory.
func Customers(n int) []string {
	var out []string
	for _, h := range repogen.HotCustomers() {
		out = append(out, h.ID)
	}
	for i := 1; i <= n; i++ {
		out = append(out, fmt.Sprintf("cus_%07d", i))
	}
	return out
}

// Native is the quota the sidecar's native API gives, in the form
// /quota/{feature} answers it.
func Native(t *testing.T, sc *sidecartest.Sidecar, customer, feature string) gate.Quota {
	t.Helper()
	var d struct {
		Allowance *int64 `json:"allowance"`
		Unlimited bool   `json:"unlimited"`
		Sources   []struct {
			Kind string `json:"kind"`
		} `json:"sources"`
	}
	code := sc.GetJSON(t, "/v1/customers/"+url.PathEscape(customer)+"/entitlements/"+url.PathEscape(feature), &d)
	require.Equal(t, http.StatusOK, code)
	q := gate.Quota{Customer: customer, Feature: feature, Reason: string(ofrep.ReasonDefault)}
	switch {
	case d.Unlimited:
		q.Allowance = ofrep.Unlimited
	case d.Allowance != nil:
		q.Allowance = *d.Allowance
	}
	for _, s := range d.Sources {
		if s.Kind == string(evaluator.SourcePromotion) {
			q.Reason = string(ofrep.ReasonTargetingMatch)
		}
	}
	return q
}

// SameQuotas compares the service's quotas with the sidecar's native
// decisions for every customer and metered feature of repo. The variant is
// left out: the native API names sources, not a winner.
func SameQuotas(t *testing.T, base string, sc *sidecartest.Sidecar, repo string, customers []string) {
	t.Helper()
	checked, promoted := 0, 0
	for _, feature := range MeteredFeatures(t, repo) {
		for _, c := range customers {
			got := Quota(t, base, c, feature, "")
			require.Empty(t, got.Error, "%s %s", c, feature)
			got.Variant = ""
			want := Native(t, sc, c, feature)
			require.Equal(t, want, got, "%s %s", c, feature)
			checked++
			if got.Reason == string(ofrep.ReasonTargetingMatch) {
				promoted++
			}
		}
	}
	t.Logf("%d answers equal, %d of them with a contributing promotion", checked, promoted)
	require.Positive(t, promoted, "the sample exercises promotions")
}
