package openfeature_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ofrepprovider "github.com/open-feature/go-sdk-contrib/providers/ofrep"
	of "github.com/open-feature/go-sdk/openfeature"
	"github.com/open-feature/go-sdk/openfeature/isolated"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/ofrep"
	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/openfeature"
	"github.com/promoctl/promoctl/openfeature/reposource"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// TestEquivalence holds the in-process provider (from the repo and from a
// bundle built of it), the sidecar (native API and OFREP, through the Go
// OFREP provider) and `promoctl explain` to the same answers on a
// generated repo, across customers, features and instants. OFREP decides at the sidecar's clock, so it is compared at the
// current time only.
func TestEquivalence(t *testing.T) {
	if testing.Short() {
		t.Skip("builds promoctl and runs a sidecar")
	}
	repo := t.TempDir()
	cfg := repogen.Tiny
	cfg.Seed = 3
	now := time.Now().UTC().Truncate(time.Second)
	cfg.Now = now // grants spread up to now, so the present draws on them
	require.NoError(t, repogen.Generate(repo, cfg))
	features := featureTypes(t, repo)
	customers := []string{repogen.HotCustomer1, repogen.HotCustomer10, repogen.HotCustomer50, "cus_unknown"}
	for i := 1; i <= 30; i++ {
		customers = append(customers, fmt.Sprintf("cus_%07d", i))
	}
	instants := []time.Time{now.AddDate(-1, 0, 0), now.AddDate(0, -6, 0), now.AddDate(0, -2, 0), now.AddDate(0, 0, -10), now.Add(-time.Hour), now}

	bin := sidecartest.Build(t)
	sc := sidecartest.Start(t, bin, repo)

	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	p := reposource.New(repo, openfeature.Options{Now: func() time.Time { return *clock.Load() }})
	inproc, _, err := register(t, p)
	require.NoError(t, err)

	bundlePath := filepath.Join(t.TempDir(), "generated.bundle")
	require.NoError(t, os.WriteFile(bundlePath, bundleOf(t, repo), 0o644))
	pb := openfeature.NewBundle(bundlePath, openfeature.BundleOptions{}, openfeature.Options{Now: func() time.Time { return *clock.Load() }})
	fromBundle, _, err := register(t, pb)
	require.NoError(t, err)

	remoteAPI := isolated.NewAPI()
	t.Cleanup(func() { _ = remoteAPI.Shutdown(context.Background()) })
	require.NoError(t, remoteAPI.SetProviderAndWait(context.Background(), ofrepprovider.NewProvider(sc.URL)))
	remote := remoteAPI.NewClient()

	promoted := 0
	t.Run("native API, the providers' flags and the bundle", func(t *testing.T) {
		for _, at := range instants {
			clock.Store(&at)
			for _, c := range customers {
				for f, typ := range features {
					d, err := p.Decide(evaluator.Query{Customer: c, Feature: f, At: at})
					require.NoError(t, err)
					if d.Promoted {
						promoted++
					}
					var native map[string]any
					code := sc.GetJSON(t, "/v1/customers/"+c+"/entitlements/"+f+"?at="+url.QueryEscape(at.Format(time.RFC3339Nano)), &native)
					require.Equal(t, 200, code)
					assert.Equal(t, native, asMap(t, d), "%s %s at %s", c, f, at)

					want := flagOf(ofrep.FromDecision(d))
					assert.Equal(t, want, evaluate(t, inproc, f, typ, c), "%s %s at %s", c, f, at)
					assert.Equal(t, want, evaluate(t, fromBundle, f, typ, c), "bundle: %s %s at %s", c, f, at)
					db, err := pb.Decide(evaluator.Query{Customer: c, Feature: f, At: at})
					require.NoError(t, err)
					assert.Equal(t, asMap(t, d), asMap(t, db), "bundle: %s %s at %s", c, f, at)
				}
			}
		}
	})
	require.Positive(t, promoted, "the instants and customers exercise promotions")
	t.Logf("%d decisions compared, %d with a contributing promotion", len(instants)*len(customers)*len(features), promoted)

	t.Run("OFREP at the current time", func(t *testing.T) {
		compared := 0
		for _, c := range customers {
			for f, typ := range features {
				before := time.Now()
				clock.Store(&before)
				want := evaluate(t, inproc, f, typ, c)
				got := evaluate(t, remote, f, typ, c)
				after := time.Now()
				clock.Store(&after)
				if evaluate(t, inproc, f, typ, c) != want {
					continue // a grant began or ended during the request
				}
				assert.Equal(t, want, got, "%s %s", c, f)
				compared++
			}
		}
		require.Greater(t, compared, len(customers)*len(features)/2)
	})

	t.Run("explain", func(t *testing.T) {
		for _, at := range []time.Time{instants[2], instants[4]} {
			for _, c := range []string{repogen.HotCustomer10, repogen.HotCustomer50, "cus_0000001"} {
				for f := range features {
					out, err := exec.Command(bin, "explain", "--repo", repo, "--customer", c, "--feature", f,
						"--at", at.Format(time.RFC3339Nano), "--format", "json").Output()
					require.NoError(t, err)
					var explained map[string]any
					require.NoError(t, json.Unmarshal(out, &explained))
					d, err := p.Decide(evaluator.Query{Customer: c, Feature: f, At: at, Explain: true}) // explain adds the why-not list
					require.NoError(t, err)
					assert.Equal(t, explained, asMap(t, d), "%s %s at %s", c, f, at)
				}
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, client := range []*of.Client{inproc, remote} {
			d, _ := client.BooleanValueDetails(context.Background(), "no_such_feature", false, of.NewEvaluationContext("cus_0000001", nil))
			assert.Equal(t, of.FlagNotFoundCode, d.ErrorCode)
			d, _ = client.BooleanValueDetails(context.Background(), "sso", false, of.NewTargetlessEvaluationContext(nil))
			assert.Equal(t, of.TargetingKeyMissingCode, d.ErrorCode)
		}
	})
}

// flag is what a client reports for one evaluation, comparable with ==
// (metadata as its JSON).
type flag struct {
	Value    any
	Reason   of.Reason
	Variant  string
	Metadata string
	Code     of.ErrorCode
}

func flagOf(f ofrep.Flag) flag {
	md, _ := json.Marshal(f.Evaluation().Metadata)
	out := flag{Value: f.Enabled, Reason: of.Reason(f.Reason), Variant: f.Variant, Metadata: string(md)}
	if f.Metered {
		out.Value = f.Number
	}
	return out
}

// evaluate asks client for feature f as its type asks: a boolean feature
// as a bool, a metered one as an int.
func evaluate(t *testing.T, client *of.Client, f, typ, customer string) flag {
	t.Helper()
	ctx := context.Background()
	evalCtx := of.NewEvaluationContext(customer, nil)
	var d of.EvaluationDetails
	var out flag
	if typ == "metered" {
		r, _ := client.IntValueDetails(ctx, f, -1, evalCtx)
		out.Value, d = r.Value, r.EvaluationDetails
	} else {
		r, _ := client.BooleanValueDetails(ctx, f, false, evalCtx)
		out.Value, d = r.Value, r.EvaluationDetails
	}
	md, err := json.Marshal(map[string]any(d.FlagMetadata))
	require.NoError(t, err)
	out.Reason, out.Variant, out.Metadata, out.Code = d.Reason, d.Variant, string(md), d.ErrorCode
	return out
}

func asMap(t *testing.T, d evaluator.Decision) map[string]any {
	t.Helper()
	raw, err := d.MarshalJSON()
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	return m
}

// featureTypes maps each feature key of a repo to its type.
func featureTypes(t *testing.T, repo string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo, "features", "*.yaml"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		typ := "boolean"
		if strings.Contains(string(raw), "type: metered") {
			typ = "metered"
		}
		out[strings.TrimSuffix(filepath.Base(f), ".yaml")] = typ
	}
	require.NotEmpty(t, out)
	return out
}
