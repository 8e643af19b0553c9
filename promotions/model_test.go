package promotions_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promoctl/promoctl/promotions"
)

func TestAllowanceAdd(t *testing.T) {
	finite := func(n int64) promotions.Allowance { return promotions.Allowance{Value: n} }
	tests := []struct {
		name string
		a, b promotions.Allowance
		want promotions.Allowance
	}{
		{"finite sum", finite(1000), finite(5000), finite(6000)},
		{"unlimited absorbs on the left", promotions.UnlimitedAllowance, finite(5), promotions.UnlimitedAllowance},
		{"unlimited absorbs on the right", finite(5), promotions.UnlimitedAllowance, promotions.UnlimitedAllowance},
		{"saturates instead of wrapping", finite(math.MaxInt64), finite(1), finite(math.MaxInt64)},
		{"saturates at the exact edge", finite(math.MaxInt64 - 1), finite(2), finite(math.MaxInt64)},
		{"reaches the maximum exactly", finite(math.MaxInt64 - 1), finite(1), finite(math.MaxInt64)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.a.Add(tt.b))
		})
	}
}
