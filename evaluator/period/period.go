package period

import (
	"math"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// NoStart and NoEnd are the open ends of a span: a plan's `never` bucket
// has one period from always to forever, and a grant without an end gives
// periods cut at nothing.
const (
	NoStart int64 = math.MinInt64
	NoEnd   int64 = math.MaxInt64
)

const (
	microsPerDay  = int64(24 * time.Hour / time.Microsecond)
	microsPerWeek = 7 * microsPerDay
)

// minMicros and maxMicros are the first and last instants promoctl
// accepts (the years 0001 to 9999, UTC): a period end beyond the last is
// no end, a start before the first no start, so that nothing is written
// that RFC 3339 cannot hold.
var (
	minMicros = promotions.MinTime.UnixMicro()
	maxMicros = promotions.MaxTime.UnixMicro()
)

// Span is one period, [Start, End) in Unix microseconds; Start is NoStart
// or End NoEnd when that side is open.
type Span struct {
	Start, End int64
}

// Contains reports whether t lies in the span.
func (s Span) Contains(t int64) bool { return s.Start <= t && t < s.End }

// StartTime is the span's start in UTC, or the zero time when it has none.
func (s Span) StartTime() time.Time {
	if s.Start == NoStart {
		return time.Time{}
	}
	return time.UnixMicro(s.Start).UTC()
}

// EndTime is the span's end in UTC, or the zero time when it has none.
func (s Span) EndTime() time.Time {
	if s.End == NoEnd {
		return time.Time{}
	}
	return time.UnixMicro(s.End).UTC()
}

// Schedule is how one bucket's periods fall.
type Schedule struct {
	Reset promotions.Reset
	// Anchor is the instant periods are counted from: period n is
	// [Anchor + n·Reset, Anchor + (n+1)·Reset). Ignored when Calendar is
	// set or Reset is never.
	Anchor int64
	// Calendar counts periods on the UTC calendar instead: days from
	// 00:00, ISO weeks from Monday 00:00, months from the 1st, years from
	// January 1st (a plan's periods, for a customer without a
	// billing_anchor).
	Calendar bool
	// From and Until bound the bucket's lifetime, [From, Until): there is
	// no period outside it, periods are cut to it, and a never bucket's
	// one period is the whole of it. NoStart and NoEnd leave a side open.
	From, Until int64
}

// At returns the period that holds t, and false when t lies outside the
// bucket's lifetime.
func (s Schedule) At(t int64) (Span, bool) { return s.AtInstant(NewInstant(t)) }

// AtTime is At for a time.Time.
func (s Schedule) AtTime(t time.Time) (Span, bool) { return s.At(t.UnixMicro()) }

// AtInstant is At for an instant whose calendar date is already worked
// out: a decision asks for every bucket's period at one instant.
func (s Schedule) AtInstant(t Instant) (Span, bool) {
	if t.us < s.From || t.us >= s.Until {
		return Span{}, false
	}
	var p Span
	switch {
	case s.Reset == promotions.ResetNever || s.Reset == "":
		p = Span{Start: NoStart, End: NoEnd}
	case s.Calendar:
		p = calendar(s.Reset, t)
	default:
		p = anchored(s.Anchor, s.Reset, t)
	}
	p.Start, p.End = max(p.Start, s.From), min(p.End, s.Until)
	if p.Start < minMicros {
		p.Start = NoStart
	}
	if p.End > maxMicros {
		p.End = NoEnd
	}
	return p, true
}

// Instant is an instant (Unix microseconds) with its UTC date.
type Instant struct {
	us, days, y, m int64
}

// NewInstant works out the UTC date of t.
func NewInstant(t int64) Instant {
	days := floorDiv(t, microsPerDay)
	y, m, _ := civil(days)
	return Instant{us: t, days: days, y: y, m: m}
}

// Anchored returns the period of a reset counted from anchor that holds t
// (t may lie before the anchor: periods run backwards from it too). A
// monthly period n starts n months after the anchor, clamped to the end
// of the month and computed from the anchor, never from the previous
// period: an anchor on January 31 gives February 28 (29), March 31, April
// 30. A never reset has one period, from always to forever.
func Anchored(anchor int64, reset promotions.Reset, t int64) Span {
	return anchored(anchor, reset, NewInstant(t))
}

func anchored(anchor int64, reset promotions.Reset, t Instant) Span {
	switch reset {
	case promotions.ResetDaily:
		return fixed(anchor, microsPerDay, t.us)
	case promotions.ResetWeekly:
		return fixed(anchor, microsPerWeek, t.us)
	case promotions.ResetMonthly:
		return monthly(anchor, 1, t)
	case promotions.ResetYearly:
		return monthly(anchor, 12, t)
	}
	return Span{Start: NoStart, End: NoEnd}
}

// Calendar returns the UTC calendar period of a reset that holds t: the
// day from 00:00, the ISO week from Monday 00:00, the month from the 1st,
// the year from January 1st. A never reset has one period, from always to
// forever.
func Calendar(reset promotions.Reset, t int64) Span { return calendar(reset, NewInstant(t)) }

func calendar(reset promotions.Reset, t Instant) Span {
	days := t.days
	switch reset {
	case promotions.ResetDaily:
		return Span{Start: days * microsPerDay, End: (days + 1) * microsPerDay}
	case promotions.ResetWeekly:
		// 1970-01-01, day 0, was a Thursday: three days after a Monday.
		monday := days - floorMod(days+3, 7)
		return Span{Start: monday * microsPerDay, End: (monday + 7) * microsPerDay}
	case promotions.ResetMonthly:
		return Span{Start: daysFrom(t.y, t.m, 1) * microsPerDay, End: daysFrom(addMonths(t.y, t.m, 1)) * microsPerDay}
	case promotions.ResetYearly:
		return Span{Start: daysFrom(t.y, 1, 1) * microsPerDay, End: daysFrom(t.y+1, 1, 1) * microsPerDay}
	}
	return Span{Start: NoStart, End: NoEnd}
}

// fixed is the period of length size counted from anchor that holds t.
func fixed(anchor, size, t int64) Span {
	start := anchor + floorDiv(t-anchor, size)*size
	return Span{Start: start, End: start + size}
}

// monthly is the period of step months (1 or 12) counted from anchor
// that holds t.
func monthly(anchor int64, step int64, t Instant) Span {
	ad := floorDiv(anchor, microsPerDay)
	clock := anchor - ad*microsPerDay
	ay, am, aday := civil(ad)
	// The period whose start lies in t's month (for years, the last one
	// starting up to t's month), then one back if it starts after t.
	diff := (t.y-ay)*12 + (t.m - am)
	n := diff
	if step != 1 {
		n = floorDiv(diff, 12)
	}
	nth := func(n int64) int64 {
		y, m := addMonthsYM(ay, am, n*step)
		return daysFrom(y, m, min(aday, daysIn(y, m)))*microsPerDay + clock
	}
	start := nth(n)
	if start > t.us {
		return Span{Start: nth(n - 1), End: start}
	}
	return Span{Start: start, End: nth(n + 1)}
}

func addMonthsYM(y, m, months int64) (int64, int64) {
	total := y*12 + (m - 1) + months
	ny := floorDiv(total, 12)
	return ny, total - ny*12 + 1
}

func addMonths(y, m, months int64) (int64, int64, int64) {
	ny, nm := addMonthsYM(y, m, months)
	return ny, nm, 1
}

func daysIn(y, m int64) int64 {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// civil and daysFrom convert between days since 1970-01-01 and the
// proleptic Gregorian calendar (H. Hinnant's algorithms): integer
// arithmetic only, a few nanoseconds where time.Date costs tens.
func civil(days int64) (y, m, d int64) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

func daysFrom(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := m - 3
	if m <= 2 {
		mp = m + 9
	}
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
