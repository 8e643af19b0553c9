package repogen_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/repogen"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// load generates cfg into a temporary directory and loads it the way
// `promoctl validate` does, failing with every diagnostic when the repo is
// not valid.
func load(t *testing.T, cfg repogen.Config) (string, *promotions.Model) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, repogen.Generate(dir, cfg))
	res, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	require.NoError(t, err)
	var report strings.Builder
	for _, d := range res.Diagnostics {
		report.WriteString(d.String() + "\n")
	}
	require.True(t, res.OK(), "generated repo is not valid:\n%s", report.String())
	require.Empty(t, res.Diagnostics.Errors(), report.String())
	return dir, res.Model
}

func grantEntries(m *promotions.Model) int {
	n := 0
	for _, p := range m.Promotions {
		n += len(p.Grants.Customers)
	}
	return n
}

func TestPresetsAreValidAndSized(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  repogen.Config
	}{
		{"tiny", repogen.Tiny},
		{"S", repogen.S},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Seed = 1
			_, m := load(t, cfg)
			assert.Len(t, m.Features, cfg.Features)
			assert.Len(t, m.Plans, cfg.Plans)
			assert.Len(t, m.Customers, cfg.Customers)
			assert.Len(t, m.Promotions, cfg.Promotions)
			assert.Equal(t, cfg.Grants, grantEntries(m))
		})
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	cfg := repogen.Tiny
	cfg.Seed = 7
	first, second, other := t.TempDir(), t.TempDir(), t.TempDir()
	require.NoError(t, repogen.Generate(first, cfg))
	require.NoError(t, repogen.Generate(second, cfg))
	cfg.Seed = 8
	require.NoError(t, repogen.Generate(other, cfg))

	a, b, c := readTree(t, first), readTree(t, second), readTree(t, other)
	require.Equal(t, len(a), len(b))
	for name, content := range a {
		assert.Equal(t, string(content), string(b[name]), name)
	}
	assert.NotEqual(t, a, c, "a different seed gives a different repo")
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[rel], err = os.ReadFile(p)
		return err
	})
	require.NoError(t, err)
	return files
}

func TestHotCustomersHaveKnownContributions(t *testing.T) {
	for _, preset := range []struct {
		name string
		cfg  repogen.Config
	}{
		{"tiny", repogen.Tiny},
		{"S", repogen.S},
	} {
		cfg := preset.cfg
		cfg.Seed = 3
		_, m := load(t, cfg)
		snap, err := snapshot.Build(m, "test")
		require.NoError(t, err)
		for _, tc := range []struct {
			customer string
			want     int
		}{
			{repogen.HotCustomer1, 1},
			{repogen.HotCustomer10, 10},
			{repogen.HotCustomer50, 50},
		} {
			t.Run(preset.name+"/"+tc.customer, func(t *testing.T) {
				d, err := evaluator.Decide(snap, evaluator.Query{Customer: tc.customer, Feature: repogen.HotFeature, At: repogen.HotAt})
				require.NoError(t, err)
				var got []string
				for _, s := range d.Sources {
					if s.Kind == "promotion" {
						got = append(got, s.ID)
					}
				}
				want := make([]string, tc.want)
				for k := range want {
					want[k] = repogen.HotPromotionID(k + 1)
				}
				assert.Equal(t, want, got)
				assert.Equal(t, promotions.FeatureMetered, d.FeatureType)
				assert.True(t, d.HasAccess)
			})
		}
	}
}

func TestHotAtMatchesItsRFC3339Form(t *testing.T) {
	assert.Equal(t, repogen.HotAtRFC3339, repogen.HotAt.Format("2006-01-02T15:04:05Z07:00"))
}

// TestEveryShapeOccurs checks that even the smallest repo exercises every
// kind of promotion the loader and the evaluator must handle.
func TestEveryShapeOccurs(t *testing.T) {
	cfg := repogen.Tiny
	cfg.Seed = 1
	_, m := load(t, cfg)
	metered := func(mode promotions.Mode) func(p *promotions.Promotion) bool {
		return func(p *promotions.Promotion) bool {
			return p.Metered != nil && p.Metered.Mode == mode && !p.Metered.Allowance.Unlimited
		}
	}
	duration := func(unit promotions.DurationUnit) func(p *promotions.Promotion) bool {
		return func(p *promotions.Promotion) bool { return p.Duration != nil && p.Duration.Unit == unit }
	}
	for _, tc := range []struct {
		shape string
		match func(p *promotions.Promotion) bool
	}{
		{"additive", metered(promotions.ModeAdditive)},
		{"override", metered(promotions.ModeOverride)},
		{"unlimited", func(p *promotions.Promotion) bool { return p.Metered != nil && p.Metered.Allowance.Unlimited }},
		{"boolean", func(p *promotions.Promotion) bool { return p.FeatureType == promotions.FeatureBoolean }},
		{"duration in days", duration(promotions.UnitDays)},
		{"duration in weeks", duration(promotions.UnitWeeks)},
		{"duration in months", duration(promotions.UnitMonths)},
		{"duration in years", duration(promotions.UnitYears)},
		{"no duration", func(p *promotions.Promotion) bool { return p.Duration == nil }},
		{"eligibility by plans", func(p *promotions.Promotion) bool { return p.Eligibility != nil && len(p.Eligibility.Plans) > 0 }},
		{"eligibility by attributes", func(p *promotions.Promotion) bool {
			return p.Eligibility != nil && len(p.Eligibility.Attributes) > 0
		}},
		{"no window", func(p *promotions.Promotion) bool { return p.Window.Start == nil && p.Window.End == nil }},
		{"window without end", func(p *promotions.Promotion) bool { return p.Window.Start != nil && p.Window.End == nil }},
		{"window without start", func(p *promotions.Promotion) bool { return p.Window.Start == nil && p.Window.End != nil }},
		{"grants.all with revoked exceptions", func(p *promotions.Promotion) bool {
			return p.Status == promotions.StatusActive && p.Grants.All != nil && p.Grants.All.RevokedAt == nil && hasState(p, promotions.StateRevoked)
		}},
		{"grants.all revoked", func(p *promotions.Promotion) bool {
			return p.Status == promotions.StatusActive && p.Grants.All != nil && p.Grants.All.RevokedAt != nil
		}},
		{"revoked entries", func(p *promotions.Promotion) bool { return p.Grants.All == nil && hasState(p, promotions.StateRevoked) }},
		{"deactivated with everything revoked", func(p *promotions.Promotion) bool {
			return p.Status == promotions.StatusDeactivated && len(p.Grants.Customers) > 0 && !hasState(p, promotions.StateGranted)
		}},
		{"not applied", func(p *promotions.Promotion) bool { return !p.IsApplied }},
	} {
		t.Run(tc.shape, func(t *testing.T) {
			found := false
			for _, p := range m.Promotions {
				found = found || tc.match(p)
			}
			assert.True(t, found, "no promotion of this shape")
		})
	}
}

func hasState(p *promotions.Promotion, state promotions.GrantState) bool {
	for _, g := range p.Grants.Customers {
		if g.State == state {
			return true
		}
	}
	return false
}

// TestGrantsSpreadRealistically: most customers hold 0–3 promotions, a few
// hold 10 or more. Only the promotion files are read: validity is what the
// other tests check, and the directory is too big to load cheaply here.
func TestGrantsSpreadRealistically(t *testing.T) {
	cfg := repogen.Config{Features: 10, Plans: 4, Customers: 5_000, CustomersPerFile: 1_000, Promotions: 200, Grants: 5_000, Seed: 5}
	dir := t.TempDir()
	require.NoError(t, repogen.Generate(dir, cfg))
	files, err := filepath.Glob(filepath.Join(dir, "promotions", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, cfg.Promotions)
	held, entries := map[string]int{}, 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		doc, diags := yamldoc.ParseDocument(filepath.Base(f), src, promotions.DefaultLimits)
		require.NotNil(t, doc, "%v", diags)
		for _, g := range yamldoc.DecodePromotion(doc).Grants.Customers {
			held[g.ID]++
			entries++
		}
	}
	few, many := cfg.Customers-len(held), 0 // customers holding nothing
	for _, n := range held {
		switch {
		case n <= 3:
			few++
		case n >= 10:
			many++
		}
	}
	assert.Greater(t, few, cfg.Customers*9/10, "customers with 0-3 promotions")
	assert.GreaterOrEqual(t, many, 10, "customers with 10 or more promotions")
	assert.Equal(t, cfg.Grants, entries)
}

func TestCustomersAreSplitOverFiles(t *testing.T) {
	cfg := repogen.Tiny
	dir := t.TempDir()
	require.NoError(t, repogen.Generate(dir, cfg))
	entries, err := os.ReadDir(filepath.Join(dir, "customers"))
	require.NoError(t, err)
	assert.Len(t, entries, (cfg.Customers+cfg.CustomersPerFile-1)/cfg.CustomersPerFile)
}

func TestInvalidConfigIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*repogen.Config)
		want   string
	}{
		{"one feature", func(c *repogen.Config) { c.Features = 1 }, "features"},
		{"two plans", func(c *repogen.Config) { c.Plans = 2 }, "plans"},
		{"six plans", func(c *repogen.Config) { c.Plans = 6 }, "plans"},
		{"fewer customers than the hot ones", func(c *repogen.Config) { c.Customers = 2 }, "customers"},
		{"fewer promotions than the hot ones", func(c *repogen.Config) { c.Promotions = repogen.HotPromotions - 1 }, "promotions"},
		{"negative grants", func(c *repogen.Config) { c.Grants = -1 }, "grants"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := repogen.Tiny
			tc.change(&cfg)
			dir := t.TempDir()
			err := repogen.Generate(dir, cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			entries, _ := os.ReadDir(dir)
			assert.Empty(t, entries, "nothing is written for an invalid config")
		})
	}
}

func TestPresetNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		want repogen.Config
		ok   bool
	}{
		{"tiny", repogen.Tiny, true},
		{"S", repogen.S, true},
		{"m", repogen.M, true},
		{"L", repogen.L, true},
		{"XL", repogen.Config{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := repogen.Preset(tc.name)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}
