package main

import (
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// nowReading is how a time flag reads "now".
type nowReading int

const (
	// nowExact is the current instant as the clock gives it: a query.
	nowExact nowReading = iota
	// nowWholeSeconds drops the fraction of a second: an instant that an
	// editing command writes into a file, or a listing, reads cleanly.
	nowWholeSeconds
)

// parseTimeFlag is every time flag's parser: --name's value is an RFC 3339
// instant, a date (2026-04-25, its 00:00 UTC), or "now" (also when empty),
// read as now says. Errors name the flag.
func parseTimeFlag(name, value string, now nowReading) (time.Time, error) {
	if value == "" || value == "now" {
		t := time.Now().UTC()
		if now == nowWholeSeconds {
			t = t.Truncate(time.Second)
		}
		return t, nil
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

// atFlag is --at of a command that edits or lists: now is read to the
// second, so that the file gets readable timestamps.
func atFlag(value string) (time.Time, error) {
	return parseTimeFlag("at", value, nowWholeSeconds)
}
