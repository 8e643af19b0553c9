// Package redis is the shared usage store: counters and idempotency records
// in Redis (≥ 7) or Valkey, reached through valkey-go, so that every
// sidecar — and every in-process client — of a deployment consumes from the
// same balance. One Lua script per consume checks the idempotency key, reads
// the store's clock, takes from the buckets and records the key in one
// round trip (EVALSHA, falling back to EVAL); every key of a customer's
// feature shares the hash tag {namespace|customer|feature}, so Redis
// Cluster keeps them in one slot.
package redis
