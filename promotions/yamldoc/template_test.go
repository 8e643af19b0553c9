package yamldoc_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// TestNewPromotionFollowsTheKeyOrder renders a promotion with every
// optional block and checks that each mapping's keys come in the order of
// promotions.PromotionKeyOrder, the order edits insert keys in.
func TestNewPromotionFollowsTheKeyOrder(t *testing.T) {
	start, end := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	unlimited := promotions.UnlimitedAllowance
	out, err := yamldoc.RenderNewPromotion(promotions.Promotion{
		ID: "full", Name: "Full", Description: "every block", Status: promotions.StatusActive,
		Feature: "api_calls", FeatureType: promotions.FeatureMetered,
		Window:      promotions.Window{Start: &start, End: &end},
		Duration:    &promotions.Duration{Value: 3, Unit: promotions.UnitMonths},
		Metered:     &promotions.Metered{Mode: promotions.ModeAdditive, Allowance: unlimited, Reset: promotions.ResetMonthly},
		Eligibility: &promotions.Eligibility{Plans: []string{"starter"}, Attributes: map[string][]string{"region": {"eu"}}},
	})
	require.NoError(t, err)

	key := regexp.MustCompile(`^( *)([a-z_]+):`)
	seen := map[string][]string{} // mapping name → keys in file order
	var stack []string            // enclosing keys by indentation level
	for _, line := range strings.Split(string(out), "\n") {
		m := key.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		depth := len(m[1]) / 2
		stack = append(stack[:depth], m[2])
		parent := strings.Join(stack[:depth], ".")
		seen[parent] = append(seen[parent], m[2])
	}
	require.NotEmpty(t, seen[""])
	for name, keys := range seen {
		order := promotions.PromotionKeyOrderAt(name)
		if order == nil {
			continue // free keys, such as eligibility.attributes
		}
		var ranks []int
		for _, k := range keys {
			r := slices.Index(order, k)
			require.GreaterOrEqual(t, r, 0, "key %q of %q is not in the key order", k, name)
			ranks = append(ranks, r)
		}
		assert.True(t, slices.IsSorted(ranks), "keys of %q out of order: %v", name, keys)
	}
}
