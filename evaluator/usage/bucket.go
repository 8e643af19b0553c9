package usage

import (
	"slices"
	"strconv"
	"time"
)

// MaxAmount is the largest amount one consume may take: the largest integer
// a JSON number (and a Lua number in the shared store's script) holds
// exactly.
const MaxAmount = 1<<53 - 1

// MaxKeyLength bounds an idempotency key, in bytes.
const MaxKeyLength = 255

// Bucket is one allowance bucket at an instant, as the decision lists it,
// reduced to what consumption needs.
type Bucket struct {
	// ID names the bucket's counter across periods: "plan:monthly" for
	// the plan (keyed by reset, so usage carries over a plan change within
	// a period), "promotion:<id>:<grant period start>" for a promotion.
	ID        string
	Allowance int64
	Unlimited bool
	// PeriodStart and PeriodEnd bound the current period, [start, end);
	// a zero PeriodEnd is a period that never ends.
	PeriodStart time.Time
	PeriodEnd   time.Time
	// Order is the consumption order (lowest first).
	Order int
	// Suspended is a bucket an override replaces: listed, its counter kept,
	// never consumed from.
	Suspended   bool
	SuspendedBy string
}

// Holds reports whether t lies in the bucket's current period.
func (b Bucket) Holds(t time.Time) bool {
	return !t.Before(b.PeriodStart) && (b.PeriodEnd.IsZero() || t.Before(b.PeriodEnd))
}

// Counter names the bucket's counter for its current period.
func (b Bucket) Counter() string {
	return CounterName(b.ID, b.PeriodStart)
}

// CounterName is the name of a bucket's counter for the period starting at
// start: the bucket id and the period start in Unix seconds.
func CounterName(bucketID string, start time.Time) string {
	return bucketID + "@" + strconv.FormatInt(start.Unix(), 10)
}

// Remaining is what is left of the bucket's allowance once used is taken;
// never negative (a soft overage leaves 0).
func (b Bucket) Remaining(used int64) int64 {
	if b.Unlimited || used >= b.Allowance {
		return 0
	}
	return b.Allowance - used
}

// Active returns the buckets a consume may take from, in consumption order,
// with the index of each in buckets.
func Active(buckets []Bucket) []int {
	idx := make([]int, 0, len(buckets))
	for i, b := range buckets {
		if !b.Suspended {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return buckets[a].Order - buckets[b].Order })
	return idx
}

// Stale reports whether some active bucket's period does not hold now: the
// buckets were computed at another instant (a period boundary passed, or
// the store's clock differs from the caller's) and must be computed again
// at now.
func Stale(buckets []Bucket, now time.Time) bool {
	for _, b := range buckets {
		if !b.Suspended && !b.Holds(now) {
			return true
		}
	}
	return false
}

// Balance is what the active buckets have left together: unlimited when one
// of them is, else the sum of their remainders (saturating).
func Balance(buckets []Bucket, used []int64) (remaining int64, unlimited bool) {
	for i, b := range buckets {
		if b.Suspended {
			continue
		}
		if b.Unlimited {
			return 0, true
		}
		r := b.Remaining(usedAt(used, i))
		if remaining > MaxAmount-r {
			return MaxAmount, false
		}
		remaining += r
	}
	return remaining, false
}

// NextReset is the earliest end among the active buckets' periods; zero
// when none ends.
func NextReset(buckets []Bucket) time.Time {
	var next time.Time
	for _, b := range buckets {
		if b.Suspended || b.PeriodEnd.IsZero() {
			continue
		}
		if next.IsZero() || b.PeriodEnd.Before(next) {
			next = b.PeriodEnd
		}
	}
	return next
}

func usedAt(used []int64, i int) int64 {
	if i < len(used) {
		return used[i]
	}
	return 0
}

// After is what used becomes once plan's takes are added: the counters a
// consume leaves, which a check reports without writing them.
func After(buckets []Bucket, used []int64, plan Plan) []int64 {
	out := make([]int64, len(buckets))
	copy(out, used)
	for _, t := range plan.Takes {
		for i, b := range buckets {
			if b.ID == t.Bucket && !b.Suspended {
				out[i] += t.Amount
				break
			}
		}
	}
	return out
}
