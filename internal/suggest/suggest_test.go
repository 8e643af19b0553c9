package suggest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promoctl/promoctl/internal/suggest"
)

func TestClosest(t *testing.T) {
	plans := []string{"enterprise", "growth", "starter"}
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"one typo", "growht", []string{"growth"}},
		{"case", "Starter", []string{"starter"}},
		{"prefix", "enter", []string{"enterprise"}},
		{"nothing close", "platinum", []string{}},
		{"empty", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, suggest.Closest(tt.in, plans))
		})
	}
	assert.Equal(t, []string{"api_calls", "api_call"}, suggest.Closest("api_calls", []string{"sso", "api_calls", "api_call"}), "nearest first")
}

func TestDidYouMean(t *testing.T) {
	assert.Equal(t, "", suggest.DidYouMean(nil))
	assert.Equal(t, "; did you mean growth?", suggest.DidYouMean([]string{"growth"}))
	assert.Equal(t, "; did you mean a, b or c?", suggest.DidYouMean([]string{"a", "b", "c"}))
}

// The ids of a repo, as the CLI offers them for an unknown promotion.
func TestClosestIDs(t *testing.T) {
	ids := []string{"spring-api-boost", "sso-for-growth", "summer-storage-bonus", "migration-burst"}
	tests := []struct {
		name string
		want []string
	}{
		{"sprng-api-boost", []string{"spring-api-boost"}},
		{"sso", []string{"sso-for-growth"}}, // a prefix
		{"SSO-for-growth", []string{"sso-for-growth"}},
		{"nope", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := suggest.Closest(tt.name, ids)
			if tt.want == nil {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tt.want, got)
			}
		})
	}
}

func TestInParentheses(t *testing.T) {
	assert.Equal(t, "", suggest.InParentheses("--", nil))
	assert.Equal(t, " (did you mean --customers?)", suggest.InParentheses("--", []string{"customers"}))
	assert.Equal(t, " (did you mean a, b?)", suggest.InParentheses("", []string{"a", "b"}))
}
