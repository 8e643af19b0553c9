// Package history reads the config repo's git history (with go-git) as an
// audit ledger: for one promotion or one customer, each commit that
// changed it — hash, author, date, subject — and what changed (created,
// field changed, granted, revoked, re-granted, renewed, deactivated,
// activated), including what a merge commit changed itself. A walk is
// bounded (a page of changes, a number of commits, a deadline, a
// cancelled context) and says where it stopped so that the next page
// continues from there. Only commits whose diff touches a config file are
// read, only regular files (never a submodule entry), and for a customer
// only the files whose lines about that customer changed are parsed.
package history
