package promotions_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestAddDurationRunsInUTC: two spellings of one instant give grants that
// end at one instant, whatever offset clamping would otherwise run in.
func TestAddDurationRunsInUTC(t *testing.T) {
	month := promotions.Duration{Value: 1, Unit: promotions.UnitMonths}
	for _, spelling := range []string{"2026-03-31T00:30:00+01:00", "2026-03-30T23:30:00Z", "2026-03-30T18:30:00-05:00"} {
		from, err := promotions.ParseTime(spelling)
		require.NoError(t, err)
		assert.Equal(t, "2026-04-30T23:30:00Z", promotions.FormatTime(promotions.AddDuration(from, month)), spelling)
	}
}

// TestAddDurationSaturates: a duration too long for the years 0001–9999
// ends just after them instead of overflowing into the past.
func TestAddDurationSaturates(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, d := range []promotions.Duration{
		{Value: 1 << 40, Unit: promotions.UnitYears},
		{Value: math.MaxInt, Unit: promotions.UnitMonths},
		{Value: math.MaxInt, Unit: promotions.UnitWeeks},
		{Value: math.MaxInt, Unit: promotions.UnitDays},
		{Value: 8000, Unit: promotions.UnitYears},
	} {
		end := promotions.AddDuration(from, d)
		assert.True(t, end.After(promotions.MaxTime), "%v ends at %s", d, end)
		assert.False(t, promotions.InRange(end))
	}
	assert.Equal(t, "2263-03-01T00:00:00Z", promotions.FormatTime(promotions.AddDuration(from, promotions.Duration{Value: 237, Unit: promotions.UnitYears})))
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in      string
		want    string // empty: refused
		message string
	}{
		{"2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", ""},
		{"2026-03-01T01:00:00+01:00", "2026-03-01T00:00:00Z", ""},
		{"0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", ""},
		{"9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999999999Z", ""},
		{"0000-06-01T00:00:00Z", "", "outside the years 0001 to 9999"},
		{"0001-01-01T00:30:00+01:00", "", "outside the years 0001 to 9999"},
		{"9999-12-31T23:30:00-01:00", "", "outside the years 0001 to 9999"},
		{"2026-03-01", "", "not an RFC 3339 timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := promotions.ParseTime(tt.in)
			if tt.want == "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.message)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, promotions.FormatTime(got))
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}
