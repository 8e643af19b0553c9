package meter

import (
	"strconv"
	"time"

	"github.com/promoctl/promoctl/internal/jsonw"
)

// ConsumeRequest is the body of a consume or a check.
type ConsumeRequest struct {
	Customer       string            `json:"customer"`
	Feature        string            `json:"feature"`
	Amount         int64             `json:"amount"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	Plan           string            `json:"plan,omitempty"`
	Attributes     map[string]string `json:"attributes,omitempty"`
}

// Part is what a consume took from, or a release gave back to, one bucket.
type Part struct {
	Bucket string `json:"bucket"`
	Amount int64  `json:"amount"`
}

// Answer is the answer to a consume or a check.
type Answer struct {
	Outcome string `json:"outcome"`
	Allowed bool   `json:"allowed"`
	// Reason is QUOTA_EXCEEDED on a denial.
	Reason string `json:"reason,omitempty"`
	Amount int64  `json:"amount"`
	// Remaining is what the buckets have left together after the consume
	// (9007199254740991 when unlimited, as OFREP gives an unlimited
	// allowance).
	Remaining int64  `json:"remaining"`
	Unlimited bool   `json:"unlimited"`
	From      []Part `json:"from"`
	// NextReset is the earliest end of a bucket's current period; nil when
	// none ends.
	NextReset *time.Time `json:"next_reset"`
	Overage   int64      `json:"overage,omitempty"`
	Store     string     `json:"store"`
	// Degraded says the store could not be reached: the answer comes from
	// the allowance alone and the consume is recorded later.
	Degraded bool   `json:"degraded,omitempty"`
	Revision string `json:"revision"`
}

// AppendJSON appends the answer's JSON object, as encoding/json would
// write it from the field tags (a test holds the two equal): a consume's
// answer is on the sidecar's hot path.
func (a Answer) AppendJSON(buf []byte) []byte {
	buf = append(buf, `{"outcome":`...)
	buf = jsonw.String(buf, a.Outcome)
	buf = append(buf, `,"allowed":`...)
	buf = strconv.AppendBool(buf, a.Allowed)
	if a.Reason != "" {
		buf = append(buf, `,"reason":`...)
		buf = jsonw.String(buf, a.Reason)
	}
	buf = append(buf, `,"amount":`...)
	buf = strconv.AppendInt(buf, a.Amount, 10)
	buf = append(buf, `,"remaining":`...)
	buf = strconv.AppendInt(buf, a.Remaining, 10)
	buf = append(buf, `,"unlimited":`...)
	buf = strconv.AppendBool(buf, a.Unlimited)
	buf = append(buf, `,"from":`...)
	if a.From == nil {
		buf = append(buf, "null"...)
	} else {
		buf = append(buf, '[')
		for i, p := range a.From {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, `{"bucket":`...)
			buf = jsonw.String(buf, p.Bucket)
			buf = append(buf, `,"amount":`...)
			buf = strconv.AppendInt(buf, p.Amount, 10)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	buf = append(buf, `,"next_reset":`...)
	if a.NextReset == nil {
		buf = append(buf, "null"...)
	} else {
		buf = jsonw.Time(buf, *a.NextReset)
	}
	if a.Overage != 0 {
		buf = append(buf, `,"overage":`...)
		buf = strconv.AppendInt(buf, a.Overage, 10)
	}
	buf = append(buf, `,"store":`...)
	buf = jsonw.String(buf, a.Store)
	if a.Degraded {
		buf = append(buf, `,"degraded":true`...)
	}
	buf = append(buf, `,"revision":`...)
	buf = jsonw.String(buf, a.Revision)
	return append(buf, '}')
}

// MarshalJSON is AppendJSON for encoding/json (a batch's results).
func (a Answer) MarshalJSON() ([]byte, error) { return a.AppendJSON(make([]byte, 0, 256)), nil }

// ReasonQuotaExceeded is the reason of a denial.
const ReasonQuotaExceeded = "QUOTA_EXCEEDED"

// ReleaseRequest is the body of a release.
type ReleaseRequest struct {
	Customer       string `json:"customer"`
	Feature        string `json:"feature"`
	IdempotencyKey string `json:"idempotency_key"`
}

// ReleaseAnswer is the answer to a release.
type ReleaseAnswer struct {
	Outcome string `json:"outcome"`
	Amount  int64  `json:"amount"`
	To      []Part `json:"to"`
	Store   string `json:"store"`
}

// BucketUsage is one bucket with its usage in the current period.
type BucketUsage struct {
	Source      string     `json:"source"`
	Kind        string     `json:"kind"`
	Mode        string     `json:"mode,omitempty"`
	Allowance   int64      `json:"allowance"`
	Unlimited   bool       `json:"unlimited"`
	Reset       string     `json:"reset"`
	PeriodStart *time.Time `json:"period_start"`
	PeriodEnd   *time.Time `json:"period_end"`
	Order       int        `json:"order"`
	// Used, Remaining and Overage are nil when the period's counter is no
	// longer retained.
	Used        *int64 `json:"used"`
	Remaining   *int64 `json:"remaining"`
	Overage     *int64 `json:"overage"`
	State       string `json:"state"`
	SuspendedBy string `json:"suspended_by,omitempty"`
}

// UsageAnswer is a customer's usage of a feature at an instant.
type UsageAnswer struct {
	Customer string        `json:"customer"`
	Feature  string        `json:"feature"`
	At       time.Time     `json:"at"`
	Buckets  []BucketUsage `json:"buckets"`
	// Remaining is what the active buckets have left together; nil when
	// the counter of one of them is no longer retained.
	Remaining *int64     `json:"remaining"`
	Unlimited bool       `json:"unlimited"`
	NextReset *time.Time `json:"next_reset"`
	Store     string     `json:"store"`
	Revision  string     `json:"revision"`
}

// Bucket states.
const (
	StateActive    = "active"
	StateSuspended = "suspended"
)
