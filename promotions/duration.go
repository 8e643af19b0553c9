package promotions

import "time"

// AddDuration adds d to t, in UTC. Months and years clamp to the last day
// of the target month (Jan 31 + 1 month = Feb 28/29) instead of
// overflowing into the next month as time.AddDate does. A duration that
// would carry any instant past MaxTime saturates just after MaxTime
// instead of overflowing: callers refuse such an end (InRange).
func AddDuration(t time.Time, d Duration) time.Time {
	t = t.UTC()
	if d.Value > maxDurationValue[d.Unit] {
		return afterRange
	}
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

// afterRange is where a saturated duration ends: the first instant past
// MaxTime.
var afterRange = MaxTime.Add(time.Nanosecond)

// maxDurationValue is, per unit, a value that carries even MinTime past
// MaxTime: anything larger saturates without computing.
var maxDurationValue = map[DurationUnit]int{
	UnitDays:   10000 * 366,
	UnitWeeks:  10000 * 53,
	UnitMonths: 10000 * 12,
	UnitYears:  10000,
}

func addMonthsClamped(t time.Time, months int) time.Time {
	year, month, day := t.Date()
	first := time.Date(year, month+time.Month(months), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if last := daysIn(first.Year(), first.Month()); day > last {
		day = last
	}
	return first.AddDate(0, 0, day-1)
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
