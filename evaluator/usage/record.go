package usage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// A recorded consume is stored as one line of fields separated by "|" —
// body hash, outcome, amount, overage, remaining, unlimited (0/1), the
// store's clock in Unix milliseconds, released (0/1), then four fields per
// take: bucket, period start and end in Unix milliseconds (0: never ends),
// amount. The shared store's Lua script writes the same line, so the two
// stores and the spool read each other's records. Bucket ids and hashes
// never contain "|".
const recordFields = 8

// EncodeRecord writes rec as a record line.
func EncodeRecord(rec Recorded) string { return string(AppendRecord(nil, rec)) }

// AppendRecord appends rec's record line to dst.
func AppendRecord(dst []byte, rec Recorded) []byte {
	dst = append(dst, rec.BodyHash...)
	dst = append(dst, '|')
	dst = append(dst, rec.Outcome...)
	for _, n := range [...]int64{rec.Amount, rec.Overage, rec.Remaining, flag(rec.Unlimited), rec.At.UnixMilli(), flag(rec.Released)} {
		dst = append(dst, '|')
		dst = strconv.AppendInt(dst, n, 10)
	}
	for _, t := range rec.Takes {
		dst = append(dst, '|')
		dst = append(dst, t.Bucket...)
		for _, n := range [...]int64{millis(t.PeriodStart), millis(t.PeriodEnd), t.Amount} {
			dst = append(dst, '|')
			dst = strconv.AppendInt(dst, n, 10)
		}
	}
	return dst
}

// DecodeRecord reads a record line.
func DecodeRecord(line string) (Recorded, error) {
	f := strings.Split(line, "|")
	if len(f) < recordFields || (len(f)-recordFields)%4 != 0 {
		return Recorded{}, fmt.Errorf("usage record has %d fields", len(f))
	}
	n := make([]int64, 0, len(f))
	for _, i := range []int{2, 3, 4, 5, 6, 7} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return Recorded{}, fmt.Errorf("usage record field %d: %w", i+1, err)
		}
		n = append(n, v)
	}
	rec := Recorded{BodyHash: f[0], Outcome: Outcome(f[1]), Amount: n[0], Overage: n[1], Remaining: n[2],
		Unlimited: n[3] == 1, At: time.UnixMilli(n[4]).UTC(), Released: n[5] == 1}
	for i := recordFields; i < len(f); i += 4 {
		var v [3]int64
		for j := range v {
			x, err := strconv.ParseInt(f[i+1+j], 10, 64)
			if err != nil {
				return Recorded{}, fmt.Errorf("usage record take field %d: %w", i+2+j, err)
			}
			v[j] = x
		}
		rec.Takes = append(rec.Takes, Take{Bucket: f[i], PeriodStart: fromMillis(v[0]), PeriodEnd: fromMillis(v[1]), Amount: v[2]})
	}
	return rec, nil
}

func flag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// Millis is t in Unix milliseconds, 0 for the zero time (a period that never
// ends), as stores write instants.
func Millis(t time.Time) int64 { return millis(t) }

// FromMillis reads what Millis wrote.
func FromMillis(ms int64) time.Time { return fromMillis(ms) }

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// SameTakes reports whether two consumes took the same amounts from the same
// counters, in whatever order they list them.
func SameTakes(a, b []Take) bool {
	sum := func(takes []Take) map[string]int64 {
		m := make(map[string]int64, len(takes))
		for _, t := range takes {
			m[t.Counter()] += t.Amount
		}
		return m
	}
	am, bm := sum(a), sum(b)
	if len(am) != len(bm) {
		return false
	}
	for k, n := range am {
		if bm[k] != n {
			return false
		}
	}
	return true
}
