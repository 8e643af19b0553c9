// Package meter answers usage requests — consume, check, release, read —
// for a sidecar or an in-process client: it computes the customer's buckets
// at the store's clock from a Source (the decision over the snapshot),
// applies the feature's policy (overage, on_store_failure), calls the store
// with a short timeout behind a breaker, and under on_store_failure: allow
// answers from the allowance alone, spools the consume and replays it when
// the store is back. It speaks to stores through usage.Store only.
package meter
