// Package store holds the sidecar's current snapshot and replaces it on
// reload: it asks its Loader (a repo directory, a bundle) for what is
// there now, has the new snapshot built aside, then swaps one pointer. A
// reload that fails leaves the last good snapshot serving, so queries never
// see a broken or half-applied config and never wait for a reload. The
// store parses nothing itself: sources live in evaluator/source.
package store
