// Package bundle is the sidecar's source for a bundle (see
// compiler/bundle): a file, re-read when it changes, or a URL, polled with
// If-None-Match and downloaded into a cache directory (temp file, fsync,
// verify, rename) so that a restart serves the cached bundle when the URL
// cannot be reached. Every bundle is verified — hash, and signature when a
// key is set — before it is served, and one older than the serving bundle
// is refused (no rollback); a refused one leaves the last good snapshot
// serving. A file is read like the repo loader reads (regular files only,
// never blocking, bounded), a download is bounded while streaming, and a
// verified cache serves when the first download stalls. It imports no
// parser.
package bundle
