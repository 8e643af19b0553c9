package snapshot_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/promotions"
)

// TestMicros: instants become microseconds since the Unix epoch, rounded
// down (before 1970 too), exact over the years 0001–9999, and saturated at
// the int64 ends beyond what they hold.
func TestMicros(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want int64
	}{
		{"epoch", time.Unix(0, 0), 0},
		{"a nanosecond after the epoch rounds down", time.Unix(0, 999), 0},
		{"a nanosecond before the epoch rounds down", time.Unix(0, -1), -1},
		{"an offset does not change the instant", time.Date(1970, 1, 1, 2, 0, 0, 1000, time.FixedZone("", 2*3600)), 1},
		{"year 0001", promotions.MinTime, promotions.MinTime.Unix() * 1e6},
		{"year 9999", promotions.MaxTime, promotions.MaxTime.Unix()*1e6 + 999999},
		{"beyond the int64 of microseconds, late", time.Date(300000, 1, 1, 0, 0, 0, 0, time.UTC), math.MaxInt64},
		{"beyond the int64 of microseconds, early", time.Date(-300000, 1, 1, 0, 0, 0, 0, time.UTC), math.MinInt64},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, snapshot.Micros(tt.in))
		})
	}
	for _, in := range []time.Time{promotions.MinTime, time.Date(1600, 2, 29, 12, 0, 0, 123456000, time.UTC), time.Date(2263, 3, 1, 0, 0, 0, 0, time.UTC), promotions.MaxTime.Truncate(time.Microsecond)} {
		assert.Equal(t, in, snapshot.TimeOf(snapshot.Micros(in)), "round trip of %s", in)
	}
}
