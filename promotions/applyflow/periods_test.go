package applyflow_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

func loadTrial(t *testing.T) (*promotions.Promotion, []byte) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "trial.yaml"))
	require.NoError(t, err)
	doc, diags := yamldoc.ParseDocument("trial.yaml", src, promotions.DefaultLimits)
	require.Empty(t, diags)
	p := yamldoc.DecodePromotion(doc)
	return &p, src
}

// TestApplyPeriodRules: each command on each kind of entry of
// testdata/trial.yaml at 2026-04-01 (exp expired on 03-15, rev revoked on
// 03-22, sch starts on 05-01, act runs until 04-08).
func TestApplyPeriodRules(t *testing.T) {
	const at = "2026-04-01T00:00:00Z"
	tests := []struct {
		name    string
		run     func(*applyflow.Apply) error
		summary string
		refused string
		// lines that must appear in the result, in order
		want []string
		// the entry to decode afterwards, with its expected periods
		id      string
		periods []promotions.Period
		state   promotions.GrantState
	}{
		{name: "renew after expiry", run: func(a *applyflow.Apply) error { return a.Grant([]string{"exp"}) }, summary: "renewed 1",
			want: []string{"    - id: exp", "      state: granted", "      granted_at: 2026-04-01T00:00:00Z", "      previous:", "        - {granted_at: 2026-03-01T00:00:00Z}"},
			id:   "exp", state: promotions.StateGranted,
			periods: []promotions.Period{{GrantedAt: ts("2026-03-01T00:00:00Z")}, {GrantedAt: ts(at)}}},
		{name: "re-grant after revoke appends to previous", run: func(a *applyflow.Apply) error { return a.Grant([]string{"rev"}) }, summary: "re-granted 1",
			want: []string{"        - {granted_at: 2026-03-01T00:00:00Z}", "        - {granted_at: 2026-03-20T00:00:00Z, revoked_at: 2026-03-22T00:00:00Z}"},
			id:   "rev", state: promotions.StateGranted,
			periods: []promotions.Period{{GrantedAt: ts("2026-03-01T00:00:00Z")}, {GrantedAt: ts("2026-03-20T00:00:00Z"), RevokedAt: tp("2026-03-22T00:00:00Z")}, {GrantedAt: ts(at)}}},
		{name: "regrant renews the expired too", run: func(a *applyflow.Apply) error { return a.RegrantAllRevoked() }, summary: "renewed 1, re-granted 1, grants.all renewed",
			id: "exp", state: promotions.StateGranted, periods: []promotions.Period{{GrantedAt: ts("2026-03-01T00:00:00Z")}, {GrantedAt: ts(at)}}},
		{name: "already granted", run: func(a *applyflow.Apply) error { return a.Grant([]string{"act"}) }, summary: "already granted 1"},
		{name: "already scheduled", run: func(a *applyflow.Apply) error { return a.Grant([]string{"sch"}) }, summary: "already scheduled 1"},
		{name: "revoke of an expired entry changes nothing and says so", run: func(a *applyflow.Apply) error { return a.Revoke([]string{"exp"}) }, summary: "already expired 1"},
		{name: "revoke of a revoked entry", run: func(a *applyflow.Apply) error { return a.Revoke([]string{"rev"}) }, summary: "already revoked 1"},
		{name: "revoke of a scheduled entry empties it", run: func(a *applyflow.Apply) error { return a.Revoke([]string{"sch"}) }, summary: "revoked 1",
			id: "sch", state: promotions.StateRevoked, periods: []promotions.Period{{GrantedAt: ts("2026-05-01T00:00:00Z"), RevokedAt: tp("2026-05-01T00:00:00Z")}}},
		{name: "revoke of an active entry", run: func(a *applyflow.Apply) error { return a.Revoke([]string{"act"}) }, summary: "revoked 1",
			id: "act", state: promotions.StateRevoked, periods: []promotions.Period{{GrantedAt: ts("2026-03-25T00:00:00Z"), RevokedAt: tp(at)}}},
		{name: "grants.all renewed after expiry", run: (*applyflow.Apply).GrantAll, summary: "grants.all renewed",
			want: []string{"  all:", "    granted_at: 2026-04-01T00:00:00Z", "    previous:", "      - {granted_at: 2026-03-01T00:00:00Z}"}},
		{name: "deactivate stamps every granted entry, ended or not", run: (*applyflow.Apply).Deactivate, summary: "deactivated, revoked 3, grants.all revoked",
			id: "exp", state: promotions.StateRevoked, periods: []promotions.Period{{GrantedAt: ts("2026-03-01T00:00:00Z"), RevokedAt: tp(at)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, src := loadTrial(t)
			plan, err := applyflow.NewApply(p, src, nil, ts(at))
			require.NoError(t, err)
			require.NoError(t, tt.run(plan))
			assert.Empty(t, plan.Refused())
			assert.Equal(t, tt.summary, plan.Summary())
			out, _, err := plan.Result()
			require.NoError(t, err)
			if !plan.Changed() {
				assert.Equal(t, string(src), string(out), "nothing to change, nothing written")
			}
			text := string(out)
			for _, line := range tt.want {
				i := strings.Index(text, line+"\n")
				require.GreaterOrEqual(t, i, 0, "line %q missing from\n%s", line, out)
				text = text[i+len(line):]
			}
			assert.Contains(t, string(out), "# revoked early, after a renewal\n", "comments are kept")
			if tt.id == "" {
				return
			}
			got := grantOf(after(t, plan), tt.id)
			require.NotNil(t, got)
			assert.Equal(t, tt.state, got.State)
			assert.Equal(t, tt.periods, utcPeriods(got.Periods()))
		})
	}
}

// A grant at an instant before the end of the entry's last period is
// refused: here the last period is a scheduled one that was revoked before
// it began (it ends, empty, on 05-01).
func TestApplyGrantBeforeTheLastPeriodEndsIsRefused(t *testing.T) {
	p, src := loadTrial(t)
	plan, err := applyflow.NewApply(p, src, nil, ts("2026-04-01T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.Revoke([]string{"sch"}))
	out, _, err := plan.Result()
	require.NoError(t, err)
	doc, diags := yamldoc.ParseDocument("trial.yaml", out, promotions.DefaultLimits)
	require.Empty(t, diags)
	revoked := yamldoc.DecodePromotion(doc)

	plan, err = applyflow.NewApply(&revoked, out, nil, ts("2026-04-02T00:00:00Z"))
	require.NoError(t, err)
	require.NoError(t, plan.Grant([]string{"sch"}))
	assert.Equal(t, []applyflow.Refusal{{ID: "sch", Reason: "2026-04-02T00:00:00Z is before the end of its last period at 2026-05-01T00:00:00Z"}}, plan.Refused())
}

func tp(s string) *time.Time {
	t := ts(s)
	return &t
}

func utcPeriods(list []promotions.Period) []promotions.Period {
	out := make([]promotions.Period, len(list))
	for i, p := range list {
		out[i].GrantedAt = p.GrantedAt.UTC()
		if p.RevokedAt != nil {
			u := p.RevokedAt.UTC()
			out[i].RevokedAt = &u
		}
	}
	return out
}
