package promotions

import (
	"fmt"
	"time"
)

// ParseTime parses an RFC 3339 timestamp as used in config files and flags.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp (such as 2026-03-01T00:00:00Z)", s)
	}
	return t, nil
}

// FormatTime renders an instant the way promoctl writes timestamps: RFC
// 3339 in UTC.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
