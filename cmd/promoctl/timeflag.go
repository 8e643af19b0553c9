package main

import (
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// parseTimeFlag parses a time flag: an RFC 3339 instant, or a date
// (2026-04-25, its 00:00 UTC); "now" or empty means now.
func parseTimeFlag(name, value string) (time.Time, error) {
	if value == "" || value == "now" {
		return time.Now().UTC(), nil
	}
	if len(value) == len(time.DateOnly) {
		if d, err := time.Parse(time.DateOnly, value); err == nil {
			if !promotions.InRange(d) {
				return time.Time{}, usageError("--%s: %q is outside the years 0001 to 9999 (UTC) that promoctl accepts", name, value)
			}
			return d, nil
		}
	}
	if _, err := promotions.ParseInstant(value); err == nil {
		t, err := promotions.ParseTime(value)
		if err != nil {
			return time.Time{}, usageError("--%s: %v", name, err)
		}
		return t, nil
	}
	t, err := promotions.ParseTime(value)
	if err != nil {
		return time.Time{}, usageError("--%s: %q is neither an RFC 3339 instant (2026-04-25T12:00:00Z) nor a date (2026-04-25)", name, value)
	}
	return t, nil
}
