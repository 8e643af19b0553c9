// Package store holds the sidecar's current snapshot and replaces it on
// reload: load and validate the whole repo, build the new snapshot aside,
// then swap one pointer. A reload that fails validation leaves the last
// good snapshot serving, so queries never see a broken or half-applied
// config and never wait for a reload.
package store
