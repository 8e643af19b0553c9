// Package bolt is the embedded usage store: counters and idempotency records
// in one bbolt file per sidecar, in its data directory. A consume is
// acknowledged only once its transaction is on disk; concurrent consumes
// share commits (a write that arrives while a commit is on its way to disk
// joins the next one), so one fsync acknowledges many. The same
// file holds the spool of consumes answered while a shared store was down.
package bolt
