package promotions_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
)

func instant(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func instantp(s string) *time.Time {
	t := instant(s)
	return &t
}

// trial is a promotion whose grants last 14 days.
func trial() *promotions.Promotion {
	return &promotions.Promotion{ID: "trial", Feature: "sso", FeatureType: promotions.FeatureBoolean,
		Status: promotions.StatusActive, Duration: &promotions.Duration{Value: 14, Unit: promotions.UnitDays}}
}

func TestEffectiveAt(t *testing.T) {
	renewed := []promotions.Period{{GrantedAt: instant("2026-03-01T00:00:00Z")}, {GrantedAt: instant("2026-04-01T00:00:00Z")}}
	regranted := []promotions.Period{
		{GrantedAt: instant("2026-03-01T00:00:00Z"), RevokedAt: instantp("2026-03-05T00:00:00Z")},
		{GrantedAt: instant("2026-03-10T00:00:00Z")},
	}
	revokedScheduled := []promotions.Period{
		{GrantedAt: instant("2026-03-01T00:00:00Z")},
		{GrantedAt: instant("2026-04-01T00:00:00Z"), RevokedAt: instantp("2026-04-01T00:00:00Z")},
	}
	revokedAtNaturalEnd := []promotions.Period{{GrantedAt: instant("2026-03-01T00:00:00Z"), RevokedAt: instantp("2026-03-15T00:00:00Z")}}
	tests := []struct {
		name    string
		periods []promotions.Period
		at      string
		state   promotions.EffectiveState
		endsAt  string
		deact   string
	}{
		{"before the first period: scheduled, ends_at of the next", renewed, "2026-02-28T23:59:59Z", promotions.EffectiveScheduled, "2026-03-15T00:00:00Z", ""},
		{"at granted_at: active", renewed, "2026-03-01T00:00:00Z", promotions.EffectiveActive, "2026-03-15T00:00:00Z", ""},
		{"at the natural end: the period no longer holds", renewed, "2026-03-15T00:00:00Z", promotions.EffectiveScheduled, "2026-04-15T00:00:00Z", ""},
		{"renewed period holds", renewed, "2026-04-14T23:59:59Z", promotions.EffectiveActive, "2026-04-15T00:00:00Z", ""},
		{"after the last period: expired", renewed, "2026-04-15T00:00:00Z", promotions.EffectiveExpired, "", ""},
		{"at revoked_at: revoked", regranted, "2026-03-05T00:00:00Z", promotions.EffectiveScheduled, "2026-03-24T00:00:00Z", ""},
		{"just before revoked_at: active until it", regranted, "2026-03-04T23:59:59Z", promotions.EffectiveActive, "2026-03-05T00:00:00Z", ""},
		{"re-granted period holds", regranted, "2026-03-10T00:00:00Z", promotions.EffectiveActive, "2026-03-24T00:00:00Z", ""},
		{"a scheduled period revoked before it began is empty: revoked", revokedScheduled, "2026-03-20T00:00:00Z", promotions.EffectiveRevoked, "", ""},
		{"revoked exactly at the natural end counts as expired", revokedAtNaturalEnd, "2026-03-20T00:00:00Z", promotions.EffectiveExpired, "", ""},
		{"deactivation ends the period: revoked", renewed, "2026-03-10T00:00:00Z", promotions.EffectiveRevoked, "", "2026-03-10T00:00:00Z"},
		{"before deactivated_at the period still holds, ending at it", renewed, "2026-03-09T00:00:00Z", promotions.EffectiveActive, "2026-03-10T00:00:00Z", "2026-03-10T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := trial()
			if tt.deact != "" {
				p.Status, p.DeactivatedAt = promotions.StatusDeactivated, instantp(tt.deact)
			}
			e := p.EffectiveAt(tt.periods, instant(tt.at))
			assert.Equal(t, tt.state, e.State)
			if tt.endsAt == "" {
				assert.Nil(t, e.EndsAt)
			} else {
				require.NotNil(t, e.EndsAt)
				assert.Equal(t, instant(tt.endsAt), *e.EndsAt)
			}
		})
	}
}

func TestEffectiveWithoutDuration(t *testing.T) {
	p := trial()
	p.Duration = nil
	e := p.EffectiveAt([]promotions.Period{{GrantedAt: instant("2026-03-01T00:00:00Z")}}, instant("2030-01-01T00:00:00Z"))
	assert.Equal(t, promotions.Effective{State: promotions.EffectiveActive}, e, "a grant without duration never ends")
}

func TestDecider(t *testing.T) {
	p := trial()
	entry := &promotions.CustomerGrant{ID: "c", State: promotions.StateGranted, GrantedAt: instant("2026-04-01T00:00:00Z"),
		Previous: []promotions.Period{{GrantedAt: instant("2026-03-10T00:00:00Z")}}}
	tests := []struct {
		name  string
		all   bool
		entry *promotions.CustomerGrant
		at    string
		via   promotions.Via
		first string
	}{
		{"no grant at all", false, nil, "2026-03-01T00:00:00Z", "", ""},
		{"entry without all decides even before it starts", false, entry, "2026-03-01T00:00:00Z", promotions.ViaEntry, "2026-03-10T00:00:00Z"},
		{"before the entry's first granted_at, all decides", true, entry, "2026-03-09T23:59:59Z", promotions.ViaAll, "2026-03-01T00:00:00Z"},
		{"from the entry's first granted_at on, the entry decides", true, entry, "2026-03-10T00:00:00Z", promotions.ViaEntry, "2026-03-10T00:00:00Z"},
		{"between the entry's periods the entry still decides", true, entry, "2026-03-30T00:00:00Z", promotions.ViaEntry, "2026-03-10T00:00:00Z"},
		{"no entry: all", true, nil, "2026-03-30T00:00:00Z", promotions.ViaAll, "2026-03-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.Grants.All = nil
			if tt.all {
				p.Grants.All = &promotions.AllGrant{GrantedAt: instant("2026-03-01T00:00:00Z")}
			}
			periods, via := p.Decider(tt.entry, instant(tt.at))
			assert.Equal(t, tt.via, via)
			if tt.first == "" {
				assert.Nil(t, periods)
				return
			}
			require.NotEmpty(t, periods)
			assert.Equal(t, instant(tt.first), periods[0].GrantedAt)
		})
	}
}

func TestAccessList(t *testing.T) {
	p := trial()
	p.Eligibility = &promotions.Eligibility{Plans: []string{"starter"}}
	p.Grants.All = &promotions.AllGrant{GrantedAt: instant("2026-03-01T00:00:00Z")}
	p.Grants.Customers = []promotions.CustomerGrant{
		{ID: "a-1", State: promotions.StateRevoked, GrantedAt: instant("2026-03-02T00:00:00Z"), RevokedAt: instantp("2026-03-03T00:00:00Z")},
		{ID: "b-2", State: promotions.StateGranted, GrantedAt: instant("2026-04-01T00:00:00Z"),
			Previous: []promotions.Period{{GrantedAt: instant("2026-03-20T00:00:00Z")}}},
		{ID: "c-3", State: promotions.StateGranted, GrantedAt: instant("2026-03-02T00:00:00Z")},
	}
	dir := map[string]*promotions.Customer{
		"a-1": {ID: "a-1", Name: "A", Plan: "starter"},
		"b-2": {ID: "b-2", Name: "B", Plan: "starter"},
		"c-3": {ID: "c-3", Name: "C", Plan: "growth"},
		"y-8": {ID: "y-8", Name: "Why", Plan: "growth"},
		"z-9": {ID: "z-9", Name: "Zed", Email: "zed@example.com", Plan: "starter"},
	}
	rows := promotions.AccessList(p, dir, instant("2026-03-10T00:00:00Z"))
	type row struct {
		ID        string
		Via       promotions.Via
		Effective promotions.EffectiveState
		Eligible  bool
		Periods   int
	}
	var got []row
	for _, r := range rows {
		got = append(got, row{r.ID, r.Via, r.Effective, r.Eligible, len(r.Periods)})
	}
	assert.Equal(t, []row{
		{"a-1", promotions.ViaEntry, promotions.EffectiveRevoked, true, 1},
		{"b-2", promotions.ViaAll, promotions.EffectiveActive, true, 1},    // all decides until 03-20
		{"c-3", promotions.ViaEntry, promotions.EffectiveActive, false, 1}, // active but not eligible: contributes nothing
		{"z-9", promotions.ViaAll, promotions.EffectiveActive, true, 1},    // y-8 is not eligible, so not covered
	}, got)
	assert.Equal(t, instant("2026-03-15T00:00:00Z"), *rows[3].EndsAt)
	assert.True(t, rows[3].Matches("ZED@"), "search is case-insensitive on email")
	assert.False(t, rows[3].Matches("nobody"))

	later := promotions.AccessList(p, dir, instant("2026-04-02T00:00:00Z"))
	assert.Equal(t, promotions.ViaEntry, later[1].Via)
	assert.Equal(t, promotions.EffectiveActive, later[1].Effective)
	assert.Len(t, later[1].Periods, 2)
	assert.True(t, later[1].Listed(promotions.StateGranted, ""))
	assert.False(t, later[1].Listed(promotions.StateRevoked, ""))
	assert.True(t, later[2].Listed(promotions.StateRevoked, promotions.EffectiveExpired), "expired counts as revoked")
	assert.False(t, later[2].Listed("", promotions.EffectiveActive))
}

func TestSummarize(t *testing.T) {
	p := trial()
	p.Metered = nil
	p.Grants.All = &promotions.AllGrant{GrantedAt: instant("2026-03-01T00:00:00Z"), RevokedAt: instantp("2026-03-02T00:00:00Z")}
	p.Grants.Customers = []promotions.CustomerGrant{
		{ID: "a", State: promotions.StateGranted, GrantedAt: instant("2026-03-09T00:00:00Z")}, // active, ends 03-23: soon
		{ID: "b", State: promotions.StateGranted, GrantedAt: instant("2026-03-20T00:00:00Z")}, // scheduled
		{ID: "c", State: promotions.StateGranted, GrantedAt: instant("2026-02-01T00:00:00Z")}, // expired
		{ID: "d", State: promotions.StateRevoked, GrantedAt: instant("2026-03-01T00:00:00Z"), RevokedAt: instantp("2026-03-02T00:00:00Z")},
	}
	s := p.Summarize(instant("2026-03-10T00:00:00Z"))
	assert.Equal(t, 3, s.Granted)
	assert.Equal(t, 1, s.Revoked)
	assert.Equal(t, map[promotions.EffectiveState]int{"active": 1, "scheduled": 1, "expired": 1, "revoked": 1}, s.Counts)
	require.NotNil(t, s.All)
	assert.Equal(t, promotions.EffectiveRevoked, s.All.State, "a revoked grants.all is not shown as granted")
	assert.Equal(t, 1, s.EndingSoon)
}
