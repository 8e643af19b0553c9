package bundle_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	format "github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/server"
	"github.com/promoctl/promoctl/evaluator/source/bundle"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/repogen"
)

// TestBundleAnswersEqualRepoAnswers serves a generated repo twice — from
// its directory and from its bundle — and asks both sidecars the same
// questions on every route that reads the snapshot: the bytes of every
// answer must be equal.
func TestBundleAnswersEqualRepoAnswers(t *testing.T) {
	for _, size := range []string{"S", "M"} {
		t.Run(size, func(t *testing.T) {
			if size == "M" && testing.Short() {
				t.Skip("loads the 100,000-customer repo")
			}
			dir, err := repogen.Cached("", size, 1)
			require.NoError(t, err)
			// The repo is loaded once, as the repo source loads it; its
			// model is both served and encoded (snapshots never write to
			// the model they index).
			res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
			require.NoError(t, err)
			require.True(t, res.OK())
			fromRepo := store.New(loaderFunc(func() (*store.Loaded, error) {
				return &store.Loaded{Revision: res.ContentHash, ContentHash: res.ContentHash, Build: func(prev *snapshot.Snapshot) (*snapshot.Snapshot, error) {
					return snapshot.Update(prev, res.Model, res.ContentHash)
				}}, nil
			}), nil)
			require.Equal(t, store.Swapped, fromRepo.Reload(context.Background()))

			data, err := format.Encode(res.Model, format.Header{Revision: res.ContentHash, ContentHash: res.ContentHash}, nil)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "repo.bundle")
			require.NoError(t, os.WriteFile(path, data, 0o644))
			fromBundle := store.New(bundle.New(path, bundle.Options{}), nil)
			require.Equal(t, store.Swapped, fromBundle.Reload(context.Background()))

			assert.Equal(t, fromRepo.Status().Counts, fromBundle.Status().Counts)
			assert.Equal(t, fromRepo.Status().Revision, fromBundle.Status().Revision)
			compareAnswers(t, fromRepo, fromBundle, res.Model)
		})
	}
}

// loaderFunc serves what a function loads.
type loaderFunc func() (*store.Loaded, error)

func (f loaderFunc) Load(context.Context) (*store.Loaded, error) { return f() }
func (f loaderFunc) Describe() string                            { return "test" }

func compareAnswers(t *testing.T, a, b *store.Store, m *promotions.Model) {
	now := func() time.Time { return repogen.HotAt }
	sa := server.New(server.Config{Source: a, Now: now})
	sb := server.New(server.Config{Source: b, Now: now})
	ask := func(method, path, body string) {
		t.Helper()
		ra, rb := httptest.NewRecorder(), httptest.NewRecorder()
		sa.ServeHTTP(ra, httptest.NewRequest(method, path, strings.NewReader(body)))
		sb.ServeHTTP(rb, httptest.NewRequest(method, path, strings.NewReader(body)))
		require.Equal(t, ra.Code, rb.Code, "%s %s", method, path)
		require.Equal(t, ra.Body.String(), rb.Body.String(), "%s %s", method, path)
		require.Equal(t, ra.Header().Get("ETag"), rb.Header().Get("ETag"), "%s %s", method, path)
	}

	customers := []string{repogen.HotCustomer1, repogen.HotCustomer10, repogen.HotCustomer50, "not_in_the_directory"}
	ids := m.CustomerIDs()
	step := max(len(ids)/300, 1)
	for i := 0; i < len(ids); i += step {
		customers = append(customers, ids[i])
	}
	// Also every customer some promotion names, sampled the same way.
	for i, p := range m.SortedPromotions() {
		if i%7 == 0 && len(p.Grants.Customers) > 0 {
			customers = append(customers, p.Grants.Customers[len(p.Grants.Customers)/2].ID)
		}
	}
	features := append(promotions.SortedKeys(m.Features), "no_such_feature")
	times := []string{"2026-01-01T00:00:00Z", repogen.HotAtRFC3339, "2026-09-30T23:59:59Z", "2031-01-01T00:00:00Z"}
	asked := 0
	for i, c := range customers {
		for _, f := range features {
			at := times[(i+len(f))%len(times)]
			ask("GET", "/v1/customers/"+c+"/entitlements/"+f+"?at="+at, "")
			asked++
		}
		ask("GET", "/v1/customers/"+c+"/entitlements?at="+times[i%len(times)], "")
		ctx, _ := json.Marshal(map[string]any{"context": map[string]any{"targetingKey": c}})
		ask("POST", "/ofrep/v1/evaluate/flags", string(ctx))
		ask("POST", "/ofrep/v1/evaluate/flags/"+features[i%len(features)], string(ctx))
		ctxPlan, _ := json.Marshal(map[string]any{"context": map[string]any{"targetingKey": c, "plan": repogen.HotPlan, "region": "eu"}})
		ask("POST", "/ofrep/v1/evaluate/flags/"+repogen.HotFeature, string(ctxPlan))
	}
	assert.Positive(t, asked)

	ask("GET", "/v1/promotions", "")
	for i, id := range m.PromotionIDs() {
		ask("GET", "/v1/promotions/"+id, "")
		if i%20 == 0 {
			ask("GET", "/v1/promotions/"+id+"/customers?limit=1000", "")
			ask("GET", "/v1/promotions/"+id+"/customers?state=revoked&search=cus_00", "")
		}
	}
	ask("GET", "/v1/promotions/no-such-promotion", "")
	body, _ := json.Marshal(map[string]any{"queries": []map[string]any{
		{"customer": repogen.HotCustomer10, "feature": repogen.HotFeature, "at": repogen.HotAtRFC3339},
		{"customer": ids[len(ids)/2], "feature": features[0]},
	}})
	ask("POST", "/v1/evaluate", string(body))

	var sta, stb map[string]any
	for _, x := range []struct {
		s   *server.Server
		out *map[string]any
	}{{sa, &sta}, {sb, &stb}} {
		rec := httptest.NewRecorder()
		x.s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/status", nil))
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), x.out))
	}
	assert.Equal(t, sta["counts"], stb["counts"], "status counts")
	assert.Equal(t, sta["revision"], stb["revision"])
}
