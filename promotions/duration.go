package promotions

import "time"

// AddDuration adds d to t. Months and years clamp to the last day of the
// target month (Jan 31 + 1 month = Feb 28/29) instead of overflowing into
// the next month as time.AddDate does.
func AddDuration(t time.Time, d Duration) time.Time {
	switch d.Unit {
	case UnitDays:
		return t.AddDate(0, 0, d.Value)
	case UnitWeeks:
		return t.AddDate(0, 0, 7*d.Value)
	case UnitMonths:
		return addMonthsClamped(t, d.Value)
	case UnitYears:
		return addMonthsClamped(t, 12*d.Value)
	default:
		return t
	}
}

func addMonthsClamped(t time.Time, months int) time.Time {
	year, month, day := t.Date()
	first := time.Date(year, month+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), t.Location())
	if last := daysIn(first.Year(), first.Month()); day > last {
		day = last
	}
	return first.AddDate(0, 0, day-1)
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
