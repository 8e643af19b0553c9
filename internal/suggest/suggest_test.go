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
