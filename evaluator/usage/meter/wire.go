package meter

import (
	"time"
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
