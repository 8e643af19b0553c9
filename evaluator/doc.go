// Package evaluator answers "may customer X use feature F, and how much,
// and why?" from a compiled snapshot: the pure decision function the
// README describes under "How a decision is made", and its JSON form. It
// reads the snapshot only (compiler/snapshot) and imports nothing that
// parses, so every consumer — the sidecar (evaluator/server, store,
// watch, source), the in-process provider (openfeature) and explain —
// gives the same answer.
//
// A metered decision is a set of allowance buckets (docs/rules.md,
// "Allowance buckets"). Usage builds on them: call Decide at the store's
// clock; Decision.Buckets are the buckets that count, already in
// consumption order, each with its current Period (a period.Span whose
// Start keys the bucket's counter) and SourceID; Decision.Replaced are
// the buckets a winning override suspends, with ReplacedBy and their own
// current periods, so their counters can be found again when the override
// ends. Bucket.PeriodAt gives a bucket's period at another instant (a
// retried consume, a clock that disagrees at a boundary), and the
// arithmetic itself lives in evaluator/period.
package evaluator
