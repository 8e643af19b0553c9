package evaluator_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/promotions"
)

// bucketView is what a test compares of a bucket: its source, allowance,
// reset, current period and order or replaced_by.
type bucketView struct {
	Source     string
	Allowance  string
	Reset      promotions.Reset
	Period     [2]string // "" for an open side
	Order      int
	ReplacedBy string
}

func viewBuckets(bs []evaluator.Bucket) []bucketView {
	out := []bucketView{}
	for i := range bs {
		b := &bs[i]
		v := bucketView{Source: b.SourceID(), Allowance: b.Source.Allowance.String(), Reset: b.Reset(), Order: b.Order, ReplacedBy: b.ReplacedBy}
		if s := b.Period.StartTime(); !s.IsZero() {
			v.Period[0] = s.Format(time.RFC3339)
		}
		if e := b.Period.EndTime(); !e.IsZero() {
			v.Period[1] = e.Format(time.RFC3339)
		}
		out = append(out, v)
	}
	return out
}

func decide(t *testing.T, m *promotions.Model, q evaluator.Query) evaluator.Decision {
	t.Helper()
	snap, err := snapshot.Build(m, "rev-test")
	require.NoError(t, err)
	d, err := evaluator.Decide(snap, q)
	require.NoError(t, err)
	return d
}

// The worked examples of docs/rules.md, "Allowance buckets".
func TestBucketsWorkedExamples(t *testing.T) {
	n := func(v int64) promotions.Allowance { return promotions.Allowance{Value: v} }

	t.Run("examples/acme cus_001 api_calls: a daily override and a monthly additive", func(t *testing.T) {
		res, err := compiler.Load(os.DirFS(filepath.Join("..", "examples", "acme")), compiler.Options{})
		require.NoError(t, err)
		require.True(t, res.OK(), "%v", res.Diagnostics)
		d := decide(t, res.Model, evaluator.Query{Customer: "cus_001", Feature: "api_calls", At: ts("2026-04-25T12:00:00Z")})
		assert.Equal(t, []bucketView{
			{Source: "promotion:migration-burst:2026-04-20T00:00:00Z", Allowance: "20000", Reset: "daily",
				Period: [2]string{"2026-04-25T00:00:00Z", "2026-04-26T00:00:00Z"}, Order: 1},
			{Source: "promotion:spring-api-boost:2026-03-02T09:00:00Z", Allowance: "50000", Reset: "monthly",
				Period: [2]string{"2026-04-02T09:00:00Z", "2026-05-02T09:00:00Z"}, Order: 2},
		}, viewBuckets(d.Buckets))
		assert.Equal(t, []bucketView{
			{Source: "plan", Allowance: "10000", Reset: "monthly",
				Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, ReplacedBy: "migration-burst"},
		}, viewBuckets(d.Replaced))
		assert.Equal(t, n(70000), d.Allowance)
		assert.Equal(t, evaluator.ResetMixed, d.Reset)
		assert.Equal(t, ts("2026-04-26T00:00:00Z"), d.NextReset)
		assert.Equal(t, "migration-burst", d.ReplacedBy(d.Sources[0]), "the plan source is replaced")
	})

	t.Run("700 weekly and 100,000 yearly without a plan: two buckets, mixed, whatever their names", func(t *testing.T) {
		for _, names := range [][2]string{{"a-weekly", "z-yearly"}, {"z-weekly", "a-yearly"}} {
			m := fixture(
				promo(names[0], promotions.ModeAdditive, n(700), grant("new", granted), reset(promotions.ResetWeekly)),
				promo(names[1], promotions.ModeAdditive, n(100000), grant("new", granted), reset(promotions.ResetYearly)),
			)
			d := decide(t, m, evaluator.Query{Customer: "new", Feature: "api", At: ts(at)})
			assert.Equal(t, []bucketView{
				{Source: "promotion:" + names[0] + ":2026-03-01T00:00:00Z", Allowance: "700", Reset: "weekly",
					Period: [2]string{"2026-03-29T00:00:00Z", "2026-04-05T00:00:00Z"}, Order: 1},
				{Source: "promotion:" + names[1] + ":2026-03-01T00:00:00Z", Allowance: "100000", Reset: "yearly",
					Period: [2]string{"2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z"}, Order: 2},
			}, viewBuckets(d.Buckets), "names %v", names)
			assert.Empty(t, d.Replaced)
			assert.Equal(t, n(100700), d.Allowance)
			assert.Equal(t, evaluator.ResetMixed, d.Reset)
			assert.Equal(t, ts("2026-04-05T00:00:00Z"), d.NextReset)
		}
	})

	t.Run("a 5,000 never credit on a 100 monthly plan: the credit's period is its grant's lifetime", func(t *testing.T) {
		m := fixture(promo("credit", promotions.ModeAdditive, n(5000), grant("c1", granted), reset(promotions.ResetNever), lasting(1, promotions.UnitYears)))
		m.Plans["starter"].Entitlements[0].Allowance = allowance(100)
		d := decide(t, m, evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)})
		assert.Equal(t, []bucketView{
			{Source: "plan", Allowance: "100", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, Order: 1},
			{Source: "promotion:credit:2026-03-01T00:00:00Z", Allowance: "5000", Reset: "never",
				Period: [2]string{"2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z"}, Order: 2},
		}, viewBuckets(d.Buckets))
		assert.Equal(t, n(5100), d.Allowance)
		assert.Equal(t, evaluator.ResetMixed, d.Reset)
		assert.Equal(t, ts("2026-05-01T00:00:00Z"), d.NextReset)
	})

	t.Run("100,000 monthly against 20,000 daily overrides: the daily one wins by rate", func(t *testing.T) {
		m := fixture(
			promo("big-monthly", promotions.ModeOverride, n(100000), grant("c1", granted)),
			promo("burst-daily", promotions.ModeOverride, n(20000), grant("c1", granted), reset(promotions.ResetDaily)),
		)
		d := decide(t, m, evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-04-01T12:00:00Z")})
		assert.Equal(t, "burst-daily", d.Override)
		assert.Equal(t, []bucketView{
			{Source: "promotion:burst-daily:2026-03-01T00:00:00Z", Allowance: "20000", Reset: "daily",
				Period: [2]string{"2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"}, Order: 1},
		}, viewBuckets(d.Buckets))
		assert.Equal(t, []bucketView{
			{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, ReplacedBy: "burst-daily"},
			{Source: "promotion:big-monthly:2026-03-01T00:00:00Z", Allowance: "100000", Reset: "monthly",
				Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, ReplacedBy: "burst-daily"},
		}, viewBuckets(d.Replaced))
		assert.Equal(t, n(20000), d.Allowance)
		assert.Equal(t, promotions.ResetDaily, d.Reset)
		for _, s := range d.Sources {
			want := "burst-daily"
			if s.ID == "burst-daily" {
				want = ""
			}
			assert.Equal(t, want, d.ReplacedBy(s), "source %s", s.ID)
		}
	})

	t.Run("a monthly promotion granted on Jan 31 at 10:00 resets on Feb 28, Mar 31, Apr 30", func(t *testing.T) {
		m := fixture(promo("boost", promotions.ModeAdditive, n(500), grant("new", "2026-01-31T10:00:00Z")))
		var starts []string
		for _, when := range []string{"2026-02-15T00:00:00Z", "2026-03-15T00:00:00Z", "2026-04-15T00:00:00Z", "2026-05-15T00:00:00Z"} {
			d := decide(t, m, evaluator.Query{Customer: "new", Feature: "api", At: ts(when)})
			require.Len(t, d.Buckets, 1)
			starts = append(starts, d.Buckets[0].Period.StartTime().Format(time.RFC3339))
		}
		assert.Equal(t, []string{"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z"}, starts)
	})
}

func TestBuckets(t *testing.T) {
	n := func(v int64) promotions.Allowance { return promotions.Allowance{Value: v} }
	tests := []struct {
		name     string
		model    *promotions.Model
		query    evaluator.Query
		override string
		buckets  []bucketView
		replaced []bucketView
		reset    promotions.Reset
		next     string
	}{
		{
			name:    "a plan at its billing anchor",
			model:   withAnchor(fixture(), "c1", "2026-01-15T08:00:00Z"),
			query:   evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			buckets: []bucketView{{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-03-15T08:00:00Z", "2026-04-15T08:00:00Z"}, Order: 1}},
			reset:   promotions.ResetMonthly, next: "2026-04-15T08:00:00Z",
		},
		{
			name:    "a plan's never bucket has one period, forever",
			model:   fixture(),
			query:   evaluator.Query{Customer: "c1", Feature: "api", At: ts(at), Plan: "free"},
			buckets: []bucketView{{Source: "plan", Allowance: "0", Reset: "never", Order: 1}},
			reset:   promotions.ResetNever,
		},
		{
			name:    "a grant's last period is cut at its end",
			model:   fixture(promo("boost", promotions.ModeAdditive, n(10), grant("new", "2026-03-10T00:00:00Z"), lasting(4, promotions.UnitWeeks))),
			query:   evaluator.Query{Customer: "new", Feature: "api", At: ts(at)},
			buckets: []bucketView{{Source: "promotion:boost:2026-03-10T00:00:00Z", Allowance: "10", Reset: "monthly", Period: [2]string{"2026-03-10T00:00:00Z", "2026-04-07T00:00:00Z"}, Order: 1}},
			reset:   promotions.ResetMonthly, next: "2026-04-07T00:00:00Z",
		},
		{
			name: "a re-grant is a new bucket anchored at its own granted_at",
			model: fixture(promo("boost", promotions.ModeAdditive, n(10), func(p *promotions.Promotion) {
				p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{ID: "new", State: promotions.StateGranted,
					GrantedAt: ts("2026-03-20T06:00:00Z"), Previous: []promotions.Period{{GrantedAt: ts("2026-02-01T00:00:00Z"), RevokedAt: tp("2026-02-10T00:00:00Z")}}})
			})),
			query:   evaluator.Query{Customer: "new", Feature: "api", At: ts(at)},
			buckets: []bucketView{{Source: "promotion:boost:2026-03-20T06:00:00Z", Allowance: "10", Reset: "monthly", Period: [2]string{"2026-03-20T06:00:00Z", "2026-04-20T06:00:00Z"}, Order: 1}},
			reset:   promotions.ResetMonthly, next: "2026-04-20T06:00:00Z",
		},
		{
			name: "equal period ends: promotion before plan, then earlier granted_at, then id",
			model: fixture(
				promo("b", promotions.ModeAdditive, n(1), grant("c1", "2026-03-01T00:00:00Z")),
				promo("a", promotions.ModeAdditive, n(2), grant("c1", "2026-03-01T00:00:00Z")),
				promo("early", promotions.ModeAdditive, n(3), grant("c1", "2026-02-01T00:00:00Z")),
			),
			query: evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-04-02T00:00:00Z")},
			buckets: []bucketView{
				{Source: "promotion:early:2026-02-01T00:00:00Z", Allowance: "3", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, Order: 1},
				{Source: "promotion:a:2026-03-01T00:00:00Z", Allowance: "2", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, Order: 2},
				{Source: "promotion:b:2026-03-01T00:00:00Z", Allowance: "1", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, Order: 3},
				{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, Order: 4},
			},
			reset: promotions.ResetMonthly, next: "2026-05-01T00:00:00Z",
		},
		{
			name: "an endless never override ranks below a periodic one",
			model: fixture(
				promo("forever", promotions.ModeOverride, n(1_000_000), grant("c1", granted), reset(promotions.ResetNever)),
				promo("tiny", promotions.ModeOverride, n(1), grant("c1", granted), reset(promotions.ResetYearly)),
			),
			query:    evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			override: "tiny",
			buckets:  []bucketView{{Source: "promotion:tiny:2026-03-01T00:00:00Z", Allowance: "1", Reset: "yearly", Period: [2]string{"2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z"}, Order: 1}},
			replaced: []bucketView{
				{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, ReplacedBy: "tiny"},
				{Source: "promotion:forever:2026-03-01T00:00:00Z", Allowance: "1000000", Reset: "never", Period: [2]string{"2026-03-01T00:00:00Z", ""}, ReplacedBy: "tiny"},
			},
			reset: promotions.ResetYearly, next: "2027-03-01T00:00:00Z",
		},
		{
			name: "a bounded never override's rate is over its grant: 3,000 over 10 days beats 200 daily",
			model: fixture(
				promo("credit", promotions.ModeOverride, n(3000), grant("c1", granted), reset(promotions.ResetNever), lasting(10, promotions.UnitDays)),
				promo("daily", promotions.ModeOverride, n(200), grant("c1", granted), reset(promotions.ResetDaily)),
			),
			query:    evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-03-05T00:00:00Z")},
			override: "credit",
			buckets:  []bucketView{{Source: "promotion:credit:2026-03-01T00:00:00Z", Allowance: "3000", Reset: "never", Period: [2]string{"2026-03-01T00:00:00Z", "2026-03-11T00:00:00Z"}, Order: 1}},
			replaced: []bucketView{
				{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}, ReplacedBy: "credit"},
				{Source: "promotion:daily:2026-03-01T00:00:00Z", Allowance: "200", Reset: "daily", Period: [2]string{"2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"}, ReplacedBy: "credit"},
			},
			reset: promotions.ResetNever, next: "2026-03-11T00:00:00Z",
		},
		{
			name: "equal rates across resets (7,000 a week, 1,000 a day): the earlier grant wins",
			model: fixture(
				promo("weekly", promotions.ModeOverride, n(7000), grant("c1", "2026-03-02T00:00:00Z"), reset(promotions.ResetWeekly)),
				promo("daily", promotions.ModeOverride, n(1000), grant("c1", "2026-03-03T00:00:00Z"), reset(promotions.ResetDaily)),
			),
			query:    evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-03-05T12:00:00Z")},
			override: "weekly",
			buckets:  []bucketView{{Source: "promotion:weekly:2026-03-02T00:00:00Z", Allowance: "7000", Reset: "weekly", Period: [2]string{"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"}, Order: 1}},
			replaced: []bucketView{
				{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}, ReplacedBy: "weekly"},
				{Source: "promotion:daily:2026-03-03T00:00:00Z", Allowance: "1000", Reset: "daily", Period: [2]string{"2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"}, ReplacedBy: "weekly"},
			},
			reset: promotions.ResetWeekly, next: "2026-03-09T00:00:00Z",
		},
		{
			name: "a rate just above another's wins whatever the grant times: 1,001 a day against 7,000 a week",
			model: fixture(
				promo("weekly", promotions.ModeOverride, n(7000), grant("c1", "2026-03-02T00:00:00Z"), reset(promotions.ResetWeekly)),
				promo("daily", promotions.ModeOverride, n(1001), grant("c1", "2026-03-03T00:00:00Z"), reset(promotions.ResetDaily)),
			),
			query:    evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-03-05T12:00:00Z")},
			override: "daily",
			buckets:  []bucketView{{Source: "promotion:daily:2026-03-03T00:00:00Z", Allowance: "1001", Reset: "daily", Period: [2]string{"2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"}, Order: 1}},
			replaced: []bucketView{
				{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z"}, ReplacedBy: "daily"},
				{Source: "promotion:weekly:2026-03-02T00:00:00Z", Allowance: "7000", Reset: "weekly", Period: [2]string{"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"}, ReplacedBy: "daily"},
			},
			reset: promotions.ResetDaily, next: "2026-03-06T00:00:00Z",
		},
		{
			name: "unlimited ranks highest",
			model: fixture(
				promo("cap", promotions.ModeOverride, n(1_000_000), grant("c1", granted), reset(promotions.ResetDaily)),
				promo("open", promotions.ModeOverride, promotions.UnlimitedAllowance, grant("c1", granted), reset(promotions.ResetYearly)),
			),
			query:    evaluator.Query{Customer: "c1", Feature: "api", At: ts(at)},
			override: "open",
			buckets:  []bucketView{{Source: "promotion:open:2026-03-01T00:00:00Z", Allowance: "unlimited", Reset: "yearly", Period: [2]string{"2026-03-01T00:00:00Z", "2027-03-01T00:00:00Z"}, Order: 1}},
			replaced: []bucketView{
				{Source: "plan", Allowance: "1000", Reset: "monthly", Period: [2]string{"2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"}, ReplacedBy: "open"},
				{Source: "promotion:cap:2026-03-01T00:00:00Z", Allowance: "1000000", Reset: "daily", Period: [2]string{"2026-04-01T00:00:00Z", "2026-04-02T00:00:00Z"}, ReplacedBy: "open"},
			},
			reset: promotions.ResetYearly, next: "2027-03-01T00:00:00Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decide(t, tt.model, tt.query)
			assert.Equal(t, tt.override, d.Override, "override")
			assert.Equal(t, tt.buckets, viewBuckets(d.Buckets), "buckets")
			if tt.replaced == nil {
				tt.replaced = []bucketView{}
			}
			assert.Equal(t, tt.replaced, viewBuckets(d.Replaced), "replaced")
			assert.Equal(t, tt.reset, d.Reset, "reset")
			if tt.next == "" {
				assert.True(t, d.NextReset.IsZero(), "next_reset %s", d.NextReset)
			} else {
				assert.Equal(t, ts(tt.next), d.NextReset, "next_reset")
			}
		})
	}
}

// TestBucketPeriodAt: usage asks a bucket for its period at another
// instant, and gets none outside the bucket's lifetime.
func TestBucketPeriodAt(t *testing.T) {
	m := fixture(promo("boost", promotions.ModeAdditive, promotions.Allowance{Value: 5}, grant("c1", "2026-01-31T10:00:00Z"), lasting(3, promotions.UnitMonths)))
	d := decide(t, m, evaluator.Query{Customer: "c1", Feature: "api", At: ts("2026-02-01T00:00:00Z")})
	require.Len(t, d.Buckets, 2)
	b := d.Buckets[0]
	require.Equal(t, "promotion:boost:2026-01-31T10:00:00Z", b.SourceID())
	p, ok := b.PeriodAt(ts("2026-03-31T10:00:00Z"))
	require.True(t, ok)
	assert.Equal(t, ts("2026-03-31T10:00:00Z"), p.StartTime())
	assert.Equal(t, ts("2026-04-30T10:00:00Z"), p.EndTime(), "the grant ends 04-30T10:00, with the period")
	_, ok = b.PeriodAt(ts("2026-04-30T10:00:00Z"))
	assert.False(t, ok, "the grant has ended")
	_, ok = b.PeriodAt(ts("2026-01-31T09:00:00Z"))
	assert.False(t, ok, "the grant has not begun")
	plan := d.Buckets[1]
	require.Equal(t, "plan", plan.SourceID())
	p, ok = plan.PeriodAt(ts("2030-07-04T00:00:00Z"))
	require.True(t, ok)
	assert.Equal(t, ts("2030-07-01T00:00:00Z"), p.StartTime())
}

func withAnchor(m *promotions.Model, customer, anchor string) *promotions.Model {
	m.Customers[customer].BillingAnchor = tp(anchor)
	return m
}
