package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTimeFlag(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Time
		err         string
	}{
		{name: "a date is its midnight UTC", value: "2026-04-25", want: time.Date(2026, 4, 25, 0, 0, 0, 0, time.UTC)},
		{name: "an instant in another zone", value: "2026-04-25T14:00:00+02:00", want: time.Date(2026, 4, 25, 12, 0, 0, 0, time.UTC)},
		{name: "a date outside the years promoctl accepts", value: "0000-01-01", err: `--at: "0000-01-01" is outside the years 0001 to 9999`},
		{name: "neither", value: "tomorrow", err: `--at: "tomorrow" is neither an RFC 3339 instant`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseTimeFlag("at", tt.value, nowExact)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s", got)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestParseTimeFlagReadsNow(t *testing.T) {
	for _, value := range []string{"", "now"} {
		before := time.Now().UTC().Truncate(time.Second)
		exact, err := parseTimeFlag("at", value, nowExact)
		require.NoError(t, err)
		whole, err := parseTimeFlag("at", value, nowWholeSeconds)
		require.NoError(t, err)
		assert.False(t, exact.Before(before), "now is now")
		assert.Equal(t, whole, whole.Truncate(time.Second), "whole seconds")
		assert.False(t, whole.Before(before))
	}
}
