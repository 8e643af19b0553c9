package period_test

import (
	"testing"

	"github.com/promoctl/promoctl/evaluator/period"
	"github.com/promoctl/promoctl/promotions"
)

var sink period.Span

// BenchmarkAt is one bucket's period on a decision's hot path: a monthly
// grant anchored mid-month and a calendar month.
func BenchmarkAt(b *testing.B) {
	anchored := period.Schedule{Reset: promotions.ResetMonthly, Anchor: at("2026-01-31T10:00:00Z"), From: at("2026-01-31T10:00:00Z"), Until: period.NoEnd}
	calendar := period.Schedule{Reset: promotions.ResetMonthly, Calendar: true, From: period.NoStart, Until: period.NoEnd}
	daily := period.Schedule{Reset: promotions.ResetDaily, Anchor: at("2026-01-31T10:00:00Z"), From: at("2026-01-31T10:00:00Z"), Until: period.NoEnd}
	t := at("2026-04-25T12:00:00Z")
	for _, tc := range []struct {
		name string
		s    period.Schedule
	}{{"anchored-monthly", anchored}, {"calendar-monthly", calendar}, {"anchored-daily", daily}} {
		b.Run(tc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				sink, _ = tc.s.At(t + int64(i%1000)*3_600_000_000)
			}
		})
	}
}

// BenchmarkAtInstant is At with the instant's date worked out once, as a
// decision does for its buckets.
func BenchmarkAtInstant(b *testing.B) {
	anchored := period.Schedule{Reset: promotions.ResetMonthly, Anchor: at("2026-01-31T10:00:00Z"), From: at("2026-01-31T10:00:00Z"), Until: period.NoEnd}
	t := period.NewInstant(at("2026-04-25T12:00:00Z"))
	for i := 0; i < b.N; i++ {
		sink, _ = anchored.AtInstant(t)
	}
}
