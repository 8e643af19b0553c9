package promotions

import (
	"fmt"
	"time"
)

// MinTime and MaxTime bound the instants promoctl accepts: the years 0001
// to 9999 in UTC, all that RFC 3339 can write. Outside them an instant is
// refused with a message rather than compared or printed wrongly.
var (
	MinTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)
)

// InRange reports whether t lies within MinTime and MaxTime.
func InRange(t time.Time) bool { return !t.Before(MinTime) && !t.After(MaxTime) }

// ParseInstant parses an RFC 3339 timestamp into UTC, whatever offset it
// was written with: the instant is what counts, and month arithmetic runs
// in UTC. The year range is not checked (see ParseTime): the loader keeps
// such an instant so that the cross-file checks report it at its position.
func ParseInstant(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp (such as 2026-03-01T00:00:00Z)", s)
	}
	return t.UTC(), nil
}

// ParseTime parses an RFC 3339 timestamp as used in config files, flags
// and queries, in UTC, and refuses one outside the years 0001–9999.
func ParseTime(s string) (time.Time, error) {
	t, err := ParseInstant(s)
	if err != nil {
		return time.Time{}, err
	}
	if !InRange(t) {
		return time.Time{}, fmt.Errorf("%q is outside the years 0001 to 9999 (UTC) that promoctl accepts", s)
	}
	return t, nil
}

// FormatTime renders an instant the way promoctl writes timestamps: RFC
// 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
