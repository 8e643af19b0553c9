// Package bundle is promoctl's compiled-state file: a validated repo's
// model in a versioned binary format that a sidecar turns into a serving
// snapshot without parsing YAML or running CUE. A bundle is one file — a
// header (format version, promoctl version, revision, commit time,
// counts), the content (every string once in a table, objects in key
// order, times as integers), a SHA-256 over both, and optionally an
// ed25519 signature over that hash at the end. Decoding refuses a
// truncated, altered, oversized, other-version, unsigned-when-a-key-is-
// required or wrongly signed file with a Refusal saying which. The package
// imports the domain model and compiler/snapshot only, so a reader of
// bundles carries no parser.
package bundle
