package promotions_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/promoctl/promoctl/promotions"
)

func TestAddDuration(t *testing.T) {
	tests := []struct {
		from string
		d    promotions.Duration
		want string
	}{
		{"2026-01-31T10:00:00Z", promotions.Duration{Value: 1, Unit: promotions.UnitMonths}, "2026-02-28T10:00:00Z"},
		{"2028-01-31T10:00:00Z", promotions.Duration{Value: 1, Unit: promotions.UnitMonths}, "2028-02-29T10:00:00Z"},
		{"2026-03-31T16:30:00Z", promotions.Duration{Value: 3, Unit: promotions.UnitMonths}, "2026-06-30T16:30:00Z"},
		{"2026-08-31T00:00:00Z", promotions.Duration{Value: 6, Unit: promotions.UnitMonths}, "2027-02-28T00:00:00Z"},
		{"2026-01-15T00:00:00Z", promotions.Duration{Value: 13, Unit: promotions.UnitMonths}, "2027-02-15T00:00:00Z"},
		{"2028-02-29T00:00:00Z", promotions.Duration{Value: 1, Unit: promotions.UnitYears}, "2029-02-28T00:00:00Z"},
		{"2028-02-29T00:00:00Z", promotions.Duration{Value: 4, Unit: promotions.UnitYears}, "2032-02-29T00:00:00Z"},
		{"2026-03-01T00:00:00Z", promotions.Duration{Value: 2, Unit: promotions.UnitWeeks}, "2026-03-15T00:00:00Z"},
		{"2026-03-01T00:00:00Z", promotions.Duration{Value: 90, Unit: promotions.UnitDays}, "2026-05-30T00:00:00Z"},
		{"2026-03-01T12:00:00+02:00", promotions.Duration{Value: 1, Unit: promotions.UnitMonths}, "2026-04-01T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.from+"+"+tt.d.Unit.Quantity(tt.d.Value), func(t *testing.T) {
			from, _ := time.Parse(time.RFC3339, tt.from)
			want, _ := time.Parse(time.RFC3339, tt.want)
			assert.True(t, want.Equal(promotions.AddDuration(from, tt.d)), "got %s", promotions.AddDuration(from, tt.d))
		})
	}
}

func TestAllowance(t *testing.T) {
	n := func(v int64) promotions.Allowance { return promotions.Allowance{Value: v} }
	u := promotions.UnlimitedAllowance
	assert.Equal(t, n(7), n(3).Add(n(4)))
	assert.Equal(t, u, n(3).Add(u))
	assert.Equal(t, u, u.Add(n(3)))
	assert.True(t, n(3).Less(n(4)))
	assert.True(t, n(1<<60).Less(u))
	assert.False(t, u.Less(n(1<<60)))
	assert.False(t, u.Less(u))
	assert.Equal(t, "unlimited", u.String())
}
