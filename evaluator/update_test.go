package evaluator_test

import (
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

func loadAcme(t *testing.T) *promotions.Model {
	t.Helper()
	res, err := compiler.Load(os.DirFS(filepath.Join("..", "examples", "acme")), compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK())
	return res.Model
}

// clone copies the model's maps; objects are shared, as the load cache
// shares the objects of unchanged files.
func clone(m *promotions.Model) *promotions.Model {
	return &promotions.Model{
		Features: maps.Clone(m.Features), Plans: maps.Clone(m.Plans), Customers: maps.Clone(m.Customers),
		Promotions: maps.Clone(m.Promotions), HasDirectory: m.HasDirectory,
	}
}

// decisions answers every customer × feature at a few instants.
func decisions(t *testing.T, s *snapshot.Snapshot, m *promotions.Model) map[string]string {
	t.Helper()
	out := map[string]string{}
	customers := append(m.CustomerIDs(), "not_in_directory")
	for _, at := range []string{"2026-02-20T00:00:00Z", "2026-03-20T00:00:00Z", "2026-04-25T12:00:00Z", "2026-06-15T00:00:00Z"} {
		for _, c := range customers {
			for f := range m.Features {
				d, err := evaluator.Decide(s, evaluator.Query{Customer: c, Feature: f, At: ts(at)})
				require.NoError(t, err)
				d.Revision = ""
				body, err := d.MarshalJSON()
				require.NoError(t, err)
				out[at+" "+c+" "+f] = string(body)
			}
		}
	}
	return out
}

// TestUpdateEqualsBuild applies model changes incrementally and checks that
// every decision equals a snapshot built from scratch, and that the
// previous snapshot still answers as before (readers keep their view).
func TestUpdateEqualsBuild(t *testing.T) {
	base := loadAcme(t)
	mutations := []struct {
		name   string
		mutate func(m *promotions.Model)
	}{
		{"nothing", func(m *promotions.Model) {}},
		{"grant revoked", func(m *promotions.Model) {
			p := *m.Promotions["spring-api-boost"]
			p.Grants.Customers = append([]promotions.CustomerGrant(nil), p.Grants.Customers...)
			p.Grants.Customers[0].State = promotions.StateRevoked
			p.Grants.Customers[0].RevokedAt = tp("2026-03-10T00:00:00Z")
			m.Promotions[p.ID] = &p
		}},
		{"promotion deleted", func(m *promotions.Model) { delete(m.Promotions, "sso-for-growth") }},
		{"promotion added with grants.all", func(m *promotions.Model) {
			m.Promotions["new-sso"] = &promotions.Promotion{ID: "new-sso", Status: promotions.StatusActive, Feature: "sso",
				FeatureType: promotions.FeatureBoolean, IsApplied: true, Grants: promotions.Grants{All: &promotions.AllGrant{GrantedAt: ts("2026-03-01T00:00:00Z")}}}
		}},
		{"promotion deactivated", func(m *promotions.Model) {
			p := *m.Promotions["migration-burst"]
			p.Status = promotions.StatusDeactivated
			m.Promotions[p.ID] = &p
		}},
		{"promotion moved to another feature", func(m *promotions.Model) {
			p := *m.Promotions["apac-priority-support"]
			p.Feature = "sso"
			m.Promotions[p.ID] = &p
		}},
		{"customer changes plan", func(m *promotions.Model) {
			c := *m.Customers["cus_001"]
			c.Plan = "enterprise"
			m.Customers[c.ID] = &c
		}},
		{"customer removed", func(m *promotions.Model) { delete(m.Customers, "cus_014") }},
		{"plan changed", func(m *promotions.Model) {
			p := *m.Plans["starter"]
			p.Entitlements = append([]promotions.PlanEntitlement{{Feature: "sso"}}, p.Entitlements...)
			m.Plans[p.Key] = &p
		}},
		{"feature renamed", func(m *promotions.Model) {
			f := *m.Features["sso"]
			f.Name = "Single sign-on (SAML)"
			m.Features[f.Key] = &f
		}},
	}
	for _, tt := range mutations {
		t.Run(tt.name, func(t *testing.T) {
			m1 := clone(base)
			prev, err := snapshot.Build(m1, "r1")
			require.NoError(t, err)
			before := decisions(t, prev, m1)

			m2 := clone(m1)
			tt.mutate(m2)
			updated, err := snapshot.Update(prev, m2, "r2")
			require.NoError(t, err)
			fresh, err := snapshot.Build(clone(m2), "r3")
			require.NoError(t, err)

			require.Equal(t, decisions(t, fresh, m2), decisions(t, updated, m2))
			require.Equal(t, fresh.Counts, updated.Counts)
			require.Equal(t, before, decisions(t, prev, m1), "the previous snapshot changed under its readers")
		})
	}
}

// A chain of updates stays equal to a fresh build.
func TestUpdateChain(t *testing.T) {
	m := clone(loadAcme(t))
	snap, err := snapshot.Build(m, "r0")
	require.NoError(t, err)
	for i := 0; i < 5; i++ {
		next := clone(m)
		p := *next.Promotions["spring-api-boost"]
		p.Grants.Customers = append(append([]promotions.CustomerGrant(nil), p.Grants.Customers...),
			promotions.CustomerGrant{ID: "cus_0" + string(rune('2'+i)) + "0", State: promotions.StateGranted, GrantedAt: ts("2026-03-03T00:00:00Z").Add(time.Duration(i) * time.Hour)})
		next.Promotions[p.ID] = &p
		snap, err = snapshot.Update(snap, next, "r")
		require.NoError(t, err)
		m = next
	}
	fresh, err := snapshot.Build(clone(m), "r")
	require.NoError(t, err)
	require.Equal(t, decisions(t, fresh, m), decisions(t, snap, m))
}
