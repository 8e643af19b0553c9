package usage

import (
	"errors"
	"fmt"
	"time"
)

// Overage is a metered feature's answer to a consume beyond the balance.
type Overage string

// Overage policies (the Feature's usage.overage).
const (
	// OverageBlock denies a consume the balance cannot cover, taking
	// nothing (the default).
	OverageBlock Overage = "block"
	// OverageSoft allows it and records the remainder on the last bucket.
	OverageSoft Overage = "soft"
)

// FailurePolicy is a metered feature's answer when its store fails.
type FailurePolicy string

// Store failure policies (the Feature's usage.on_store_failure).
const (
	// FailAllow answers from the allowance alone and records the consume
	// later (the default).
	FailAllow FailurePolicy = "allow"
	// FailDeny refuses the consume until the store answers again.
	FailDeny FailurePolicy = "deny"
)

// Outcome is what a consume did.
type Outcome string

// Outcomes of a consume.
const (
	OutcomeConsumed     Outcome = "consumed"
	OutcomeConsumedOver Outcome = "consumed_over"
	OutcomeDenied       Outcome = "denied"
	OutcomeDuplicate    Outcome = "duplicate"
)

// Take is what a consume took from one bucket's period.
type Take struct {
	Bucket      string
	PeriodStart time.Time
	PeriodEnd   time.Time // zero: the period never ends
	Amount      int64
}

// Counter names the counter the take was added to.
func (t Take) Counter() string { return CounterName(t.Bucket, t.PeriodStart) }

// Plan is what a consume of an amount does to a set of buckets.
type Plan struct {
	Outcome Outcome
	Allowed bool
	// Takes lists, in consumption order, what is taken from each bucket;
	// their amounts add up to the consume's amount when it is allowed.
	Takes []Take
	// Overage is the part of the amount beyond the balance (soft only); it
	// is included in the last take.
	Overage int64
}

// Consume computes what consuming amount takes from buckets whose current
// periods have used what used says (used[i] for buckets[i]): from the
// active buckets in consumption order, each giving what it has left; an
// unlimited bucket takes the whole amount so that no finite allowance is
// burnt while an unlimited one holds; under block a consume the balance
// cannot cover takes nothing and is denied; under soft the remainder is
// taken by the last active bucket as overage. With no active bucket a
// consume is denied.
func Consume(buckets []Bucket, used []int64, amount int64, overage Overage) Plan {
	active := Active(buckets)
	if len(active) == 0 || amount <= 0 {
		return Plan{Outcome: OutcomeDenied}
	}
	for _, i := range active {
		if b := buckets[i]; b.Unlimited {
			return Plan{Outcome: OutcomeConsumed, Allowed: true, Takes: []Take{take(b, amount)}}
		}
	}
	left := amount
	var takes []Take
	for _, i := range active {
		b := buckets[i]
		n := min(b.Remaining(usedAt(used, i)), left)
		if n > 0 {
			takes = append(takes, take(b, n))
			left -= n
		}
		if left == 0 {
			return Plan{Outcome: OutcomeConsumed, Allowed: true, Takes: takes}
		}
	}
	if overage != OverageSoft {
		return Plan{Outcome: OutcomeDenied}
	}
	last := buckets[active[len(active)-1]]
	if n := len(takes); n > 0 && takes[n-1].Bucket == last.ID {
		takes[n-1].Amount += left
	} else {
		takes = append(takes, take(last, left))
	}
	return Plan{Outcome: OutcomeConsumedOver, Allowed: true, Takes: takes, Overage: left}
}

func take(b Bucket, n int64) Take {
	return Take{Bucket: b.ID, PeriodStart: b.PeriodStart, PeriodEnd: b.PeriodEnd, Amount: n}
}

// Release splits a recorded consume's takes into those whose periods are
// still open at now (given back) and those whose periods have closed
// (forfeited with their period).
func Release(takes []Take, now time.Time) (back, closed []Take) {
	for _, t := range takes {
		if t.PeriodEnd.IsZero() || now.Before(t.PeriodEnd) {
			back = append(back, t)
		} else {
			closed = append(closed, t)
		}
	}
	return back, closed
}

// ErrInvalidAmount and ErrInvalidKey describe a consume that cannot be made.
var (
	ErrInvalidAmount = fmt.Errorf("amount must be an integer from 1 to %d", int64(MaxAmount))
	ErrInvalidKey    = fmt.Errorf("idempotency_key must be 1 to %d bytes", MaxKeyLength)
)

// ValidateAmount checks a consume's amount.
func ValidateAmount(amount int64) error {
	if amount <= 0 || amount > MaxAmount {
		return ErrInvalidAmount
	}
	return nil
}

// ValidateKey checks an idempotency key.
func ValidateKey(key string) error {
	if key == "" || len(key) > MaxKeyLength {
		return ErrInvalidKey
	}
	return nil
}

// Errors a store returns that callers branch on.
var (
	// ErrKeyReused is a consume whose idempotency key was recorded with
	// another request body.
	ErrKeyReused = errors.New("the idempotency key was used with another request")
	// ErrUnavailable wraps every failure to reach or use a store, so that
	// callers apply the feature's store failure policy.
	ErrUnavailable = errors.New("usage store unavailable")
)

// StaleError says the store's clock is outside a bucket's period: the
// caller computes the buckets again at Now and retries.
type StaleError struct{ Now time.Time }

func (e *StaleError) Error() string {
	return fmt.Sprintf("the buckets do not hold at the store's clock %s", e.Now.UTC().Format(time.RFC3339Nano))
}
