// Package history reads the config repo's git history (with go-git) as an
// audit ledger: for one promotion or one customer, each commit that
// changed it — hash, author, date, subject — and what changed (created,
// field changed, granted, revoked, re-granted, renewed, deactivated,
// activated). Only commits whose diff touches a config file are read, and
// only the changed files of those are parsed.
package history
