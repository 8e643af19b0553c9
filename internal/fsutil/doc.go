// Package fsutil holds the file operations the editing commands rely on:
// atomic writes (temp file, fsync, rename, directory fsync) with a
// compare-and-swap against the content that was read, and the repo lock
// that serialises editing commands on one repo, and the check that a
// directory only its owner can write (caches a sidecar serves from), and
// bounded reads of regular files that never block on a pipe or device.
package fsutil
