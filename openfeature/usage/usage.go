// Package usage is the Go usage client: Check, Consume, Release and Usage
// of metered allowances, from a service's own process. NewRedis runs the
// sidecars' Lua script against the same Redis or Valkey, computing buckets
// from an in-process provider's snapshot, so a service needs no sidecar
// and shares its customers' balances with every sidecar on that store;
// NewSidecar asks a promoctl sidecar's usage routes instead. Both answer
// alike (the sidecar's JSON shapes, its errors). docs/usage.md says when
// to use which.
package usage

import (
	"context"
	"fmt"
	"time"

	"github.com/promoctl/promoctl/evaluator/usage"
	"github.com/promoctl/promoctl/evaluator/usage/bolt"
	"github.com/promoctl/promoctl/evaluator/usage/meter"
	"github.com/promoctl/promoctl/evaluator/usage/redis"
	"github.com/promoctl/promoctl/evaluator/usage/sidecar"
	"github.com/promoctl/promoctl/openfeature"
)

// The answers and requests are the sidecar's.
type (
	Request       = meter.ConsumeRequest
	Answer        = meter.Answer
	Part          = meter.Part
	ReleaseAnswer = meter.ReleaseAnswer
	UsageAnswer   = meter.UsageAnswer
	BucketUsage   = meter.BucketUsage
)

// Errors callers branch on (errors.Is). A denial is not an error: it is an
// Answer with Allowed false and Reason QUOTA_EXCEEDED.
var (
	// ErrKeyReused: the idempotency key was used with another request.
	ErrKeyReused = usage.ErrKeyReused
	// ErrUnavailable: the store failed and the feature says
	// on_store_failure: deny (retry after a second).
	ErrUnavailable = meter.ErrStoreUnavailable
	// ErrInvalid: the request cannot be answered as given.
	ErrInvalid = meter.ErrInvalid
)

// Client checks and consumes allowances.
type Client struct {
	c     meter.Client
	close func()
}

// Options tune NewRedis. Zero values take the sidecar's defaults.
type Options struct {
	Namespace      string
	IdempotencyTTL time.Duration
	Retention      time.Duration
	// Timeout bounds each store call (25 ms).
	Timeout time.Duration
	// SpoolDir, when set, keeps the consumes answered while Redis is down
	// (features with on_store_failure: allow) in a bbolt file there, and
	// replays them when it is back; without it they are answered but not
	// recorded.
	SpoolDir string
}

// NewRedis returns a client that consumes against the Redis or Valkey at
// url (redis:// or rediss://), with buckets from p's snapshot. Close it when
// done.
func NewRedis(url string, p *openfeature.Provider, opts Options) (*Client, error) {
	store, err := redis.Open(url, redis.Options{Namespace: opts.Namespace, Retention: opts.Retention, IdempotencyTTL: opts.IdempotencyTTL})
	if err != nil {
		return nil, err
	}
	mopts := meter.Options{Namespace: opts.Namespace, Timeout: opts.Timeout, Retention: opts.Retention}
	var spool *bolt.Store
	if opts.SpoolDir != "" {
		if spool, err = bolt.Open(opts.SpoolDir, bolt.Options{}); err != nil {
			_ = store.Close()
			return nil, fmt.Errorf("usage spool: %w", err)
		}
		mopts.Spool = spool
	}
	m := meter.New(meter.SnapshotSource(p.Snapshot), store, mopts)
	return &Client{c: m, close: func() {
		m.Close()
		_ = store.Close()
		if spool != nil {
			_ = spool.Close()
		}
	}}, nil
}

// NewSidecar returns a client of the sidecar at base (http://127.0.0.1:8787)
// with its token ("" without one).
func NewSidecar(base, token string) *Client {
	return &Client{c: sidecar.New(base, token, nil), close: func() {}}
}

// Close releases the connections (and the spool).
func (c *Client) Close() { c.close() }

// Consume takes req.Amount from the customer's buckets, once per
// idempotency key.
func (c *Client) Consume(ctx context.Context, req Request) (Answer, error) {
	return c.c.Consume(ctx, req, false)
}

// Check answers what Consume would, writing nothing (no key needed).
func (c *Client) Check(ctx context.Context, req Request) (Answer, error) {
	return c.c.Consume(ctx, req, true)
}

// Release gives the consume recorded under key back to its buckets while
// their periods are open.
func (c *Client) Release(ctx context.Context, customer, feature, key string) (ReleaseAnswer, error) {
	return c.c.Release(ctx, meter.ReleaseRequest{Customer: customer, Feature: feature, IdempotencyKey: key})
}

// Usage reads a customer's buckets with their usage now (a zero at) or at a
// past instant.
func (c *Client) Usage(ctx context.Context, customer, feature string, at time.Time) (UsageAnswer, error) {
	return c.c.Usage(ctx, meter.Query{Customer: customer, Feature: feature}, at)
}
