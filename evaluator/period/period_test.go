package period_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/evaluator/period"
	"github.com/promoctl/promoctl/promotions"
)

func at(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

func span(start, end string) period.Span {
	s := period.Span{Start: period.NoStart, End: period.NoEnd}
	if start != "" {
		s.Start = at(start)
	}
	if end != "" {
		s.End = at(end)
	}
	return s
}

func TestAnchored(t *testing.T) {
	tests := []struct {
		name   string
		anchor string
		reset  promotions.Reset
		t      string
		want   period.Span
	}{
		{"daily from midnight", "2026-04-20T00:00:00Z", promotions.ResetDaily, "2026-04-25T12:00:00Z", span("2026-04-25T00:00:00Z", "2026-04-26T00:00:00Z")},
		{"daily from 09:00, before 09:00", "2026-04-02T09:00:00Z", promotions.ResetDaily, "2026-04-05T08:59:59Z", span("2026-04-04T09:00:00Z", "2026-04-05T09:00:00Z")},
		{"daily at the anchor", "2026-04-02T09:00:00Z", promotions.ResetDaily, "2026-04-02T09:00:00Z", span("2026-04-02T09:00:00Z", "2026-04-03T09:00:00Z")},
		{"weekly from a Wednesday", "2026-04-01T10:00:00Z", promotions.ResetWeekly, "2026-04-15T09:00:00Z", span("2026-04-08T10:00:00Z", "2026-04-15T10:00:00Z")},
		{"monthly from the 2nd 09:00", "2026-03-02T09:00:00Z", promotions.ResetMonthly, "2026-04-25T12:00:00Z", span("2026-04-02T09:00:00Z", "2026-05-02T09:00:00Z")},
		{"monthly before the anchor's day in the month", "2026-03-02T09:00:00Z", promotions.ResetMonthly, "2026-05-02T08:00:00Z", span("2026-04-02T09:00:00Z", "2026-05-02T09:00:00Z")},
		{"monthly from Jan 31: February clamps", "2026-01-31T10:00:00Z", promotions.ResetMonthly, "2026-03-01T00:00:00Z", span("2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z")},
		{"monthly from Jan 31: March is the 31st again", "2026-01-31T10:00:00Z", promotions.ResetMonthly, "2026-04-01T00:00:00Z", span("2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z")},
		{"monthly from Jan 31: April 30, no drift", "2026-01-31T10:00:00Z", promotions.ResetMonthly, "2026-05-15T00:00:00Z", span("2026-04-30T10:00:00Z", "2026-05-31T10:00:00Z")},
		{"monthly from Jan 31, leap February", "2028-01-31T00:00:00Z", promotions.ResetMonthly, "2028-02-29T12:00:00Z", span("2028-02-29T00:00:00Z", "2028-03-31T00:00:00Z")},
		{"monthly across a year end", "2026-11-30T00:00:00Z", promotions.ResetMonthly, "2027-01-10T00:00:00Z", span("2026-12-30T00:00:00Z", "2027-01-30T00:00:00Z")},
		{"monthly before the anchor", "2026-01-15T00:00:00Z", promotions.ResetMonthly, "2025-12-01T00:00:00Z", span("2025-11-15T00:00:00Z", "2025-12-15T00:00:00Z")},
		{"yearly from Feb 29", "2024-02-29T00:00:00Z", promotions.ResetYearly, "2026-03-01T00:00:00Z", span("2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z")},
		{"yearly from Feb 29, back in a leap year", "2024-02-29T00:00:00Z", promotions.ResetYearly, "2028-03-01T00:00:00Z", span("2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z")},
		{"yearly, t early in the anchor's month", "2025-06-15T00:00:00Z", promotions.ResetYearly, "2026-06-10T00:00:00Z", span("2025-06-15T00:00:00Z", "2026-06-15T00:00:00Z")},
		{"never", "2026-01-01T00:00:00Z", promotions.ResetNever, "2026-06-10T00:00:00Z", span("", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := period.Anchored(at(tc.anchor), tc.reset, at(tc.t))
			assert.Equal(t, tc.want, got, "got [%s, %s)", got.StartTime(), got.EndTime())
		})
	}
}

func TestCalendar(t *testing.T) {
	tests := []struct {
		name  string
		reset promotions.Reset
		t     string
		want  period.Span
	}{
		{"day", promotions.ResetDaily, "2026-04-25T12:00:00Z", span("2026-04-25T00:00:00Z", "2026-04-26T00:00:00Z")},
		{"day at midnight", promotions.ResetDaily, "2026-04-25T00:00:00Z", span("2026-04-25T00:00:00Z", "2026-04-26T00:00:00Z")},
		{"ISO week from Monday (t a Saturday)", promotions.ResetWeekly, "2026-04-25T12:00:00Z", span("2026-04-20T00:00:00Z", "2026-04-27T00:00:00Z")},
		{"ISO week, t a Monday", promotions.ResetWeekly, "2026-04-20T00:00:00Z", span("2026-04-20T00:00:00Z", "2026-04-27T00:00:00Z")},
		{"ISO week, t a Sunday night", promotions.ResetWeekly, "2026-04-19T23:59:59Z", span("2026-04-13T00:00:00Z", "2026-04-20T00:00:00Z")},
		{"ISO week before 1970", promotions.ResetWeekly, "1969-12-31T12:00:00Z", span("1969-12-29T00:00:00Z", "1970-01-05T00:00:00Z")},
		{"month", promotions.ResetMonthly, "2026-04-25T12:00:00Z", span("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z")},
		{"December", promotions.ResetMonthly, "2026-12-31T23:00:00Z", span("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z")},
		{"February of a leap year", promotions.ResetMonthly, "2028-02-29T23:00:00Z", span("2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z")},
		{"year", promotions.ResetYearly, "2026-04-25T12:00:00Z", span("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z")},
		{"never", promotions.ResetNever, "2026-04-25T12:00:00Z", span("", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := period.Calendar(tc.reset, at(tc.t))
			assert.Equal(t, tc.want, got, "got [%s, %s)", got.StartTime(), got.EndTime())
		})
	}
}

func TestScheduleAt(t *testing.T) {
	grant := period.Schedule{Reset: promotions.ResetMonthly, Anchor: at("2026-01-31T10:00:00Z"),
		From: at("2026-01-31T10:00:00Z"), Until: at("2026-04-15T00:00:00Z")}
	plan := period.Schedule{Reset: promotions.ResetMonthly, Calendar: true, From: period.NoStart, Until: period.NoEnd}
	tests := []struct {
		name   string
		s      period.Schedule
		t      string
		want   period.Span
		within bool
	}{
		{"a grant's first period", grant, "2026-02-01T00:00:00Z", span("2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z"), true},
		{"a grant's last period is cut at its end", grant, "2026-04-01T00:00:00Z", span("2026-03-31T10:00:00Z", "2026-04-15T00:00:00Z"), true},
		{"before a grant", grant, "2026-01-31T09:59:59Z", period.Span{}, false},
		{"at a grant's end", grant, "2026-04-15T00:00:00Z", period.Span{}, false},
		{"a grant's never is its lifetime", period.Schedule{Reset: promotions.ResetNever, Anchor: grant.From, From: grant.From, Until: grant.Until},
			"2026-03-01T00:00:00Z", span("2026-01-31T10:00:00Z", "2026-04-15T00:00:00Z"), true},
		{"an endless grant's never has no end", period.Schedule{Reset: promotions.ResetNever, Anchor: grant.From, From: grant.From, Until: period.NoEnd},
			"2030-03-01T00:00:00Z", span("2026-01-31T10:00:00Z", ""), true},
		{"a calendar plan", plan, "2026-04-25T12:00:00Z", span("2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"), true},
		{"a plan's never is forever", period.Schedule{Reset: promotions.ResetNever, Calendar: true, From: period.NoStart, Until: period.NoEnd},
			"2026-04-25T12:00:00Z", span("", ""), true},
		{"a plan at a billing anchor", period.Schedule{Reset: promotions.ResetMonthly, Anchor: at("2026-01-15T00:00:00Z"), From: period.NoStart, Until: period.NoEnd},
			"2026-04-25T12:00:00Z", span("2026-04-15T00:00:00Z", "2026-05-15T00:00:00Z"), true},
		{"a period ending after year 9999 has no end", plan, "9999-12-31T12:00:00Z", span("9999-12-01T00:00:00Z", ""), true},
		{"a period starting before year 1 has no start",
			period.Schedule{Reset: promotions.ResetYearly, Anchor: at("0001-06-01T00:00:00Z"), From: period.NoStart, Until: period.NoEnd},
			"0001-03-01T00:00:00Z", span("", "0001-06-01T00:00:00Z"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.s.At(at(tc.t))
			require.Equal(t, tc.within, ok)
			assert.Equal(t, tc.want, got, "got [%s, %s)", got.StartTime(), got.EndTime())
		})
	}
}

// TestWorkedExampleJan31 is the example of docs/rules.md: a monthly
// promotion granted 2026-01-31T10:00Z starts its periods on 02-28, 03-31
// and 04-30 at 10:00.
func TestWorkedExampleJan31(t *testing.T) {
	s := period.Schedule{Reset: promotions.ResetMonthly, Anchor: at("2026-01-31T10:00:00Z"), From: at("2026-01-31T10:00:00Z"), Until: period.NoEnd}
	var starts []string
	for p, ok := s.At(s.From); ok && len(starts) < 4; p, ok = s.At(p.End) {
		starts = append(starts, p.StartTime().Format(time.RFC3339))
	}
	assert.Equal(t, []string{"2026-01-31T10:00:00Z", "2026-02-28T10:00:00Z", "2026-03-31T10:00:00Z", "2026-04-30T10:00:00Z"}, starts)
}

// TestAnchoredAgainstAddDuration holds the arithmetic equal to a slow
// reference on random anchors and instants: period n starts at the anchor
// plus n resets (promotions.AddDuration, which clamps months), and the
// period holding t is the last one starting at or before t.
func TestAnchoredAgainstAddDuration(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	units := map[promotions.Reset]promotions.Duration{
		promotions.ResetDaily:   {Value: 1, Unit: promotions.UnitDays},
		promotions.ResetWeekly:  {Value: 1, Unit: promotions.UnitWeeks},
		promotions.ResetMonthly: {Value: 1, Unit: promotions.UnitMonths},
		promotions.ResetYearly:  {Value: 1, Unit: promotions.UnitYears},
	}
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 4000; i++ {
		anchor := base.Add(time.Duration(rng.Int64N(int64(6 * 365 * 24 * time.Hour)))).Truncate(time.Second)
		if i%3 == 0 { // month ends are where clamping shows
			anchor = time.Date(2020+rng.IntN(6), time.Month(1+rng.IntN(12)), 28+rng.IntN(4), rng.IntN(24), 0, 0, 0, time.UTC)
		}
		reset := []promotions.Reset{promotions.ResetDaily, promotions.ResetWeekly, promotions.ResetMonthly, promotions.ResetYearly}[rng.IntN(4)]
		tt := anchor.Add(time.Duration(rng.Int64N(int64(8 * 365 * 24 * time.Hour))))
		d := units[reset]
		var start, end time.Time
		for n := 0; ; n++ {
			d.Value = n + 1
			next := promotions.AddDuration(anchor, d)
			if next.After(tt) {
				d.Value = n
				start, end = promotions.AddDuration(anchor, d), next
				break
			}
		}
		got := period.Anchored(anchor.UnixMicro(), reset, tt.UnixMicro())
		require.Equal(t, span(start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano)), got,
			"anchor %s reset %s t %s: got [%s, %s)", anchor, reset, tt, got.StartTime(), got.EndTime())
	}
}
