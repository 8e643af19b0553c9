// Package report renders what the compiler computed: validation
// diagnostics as text with source frames, JSON, GitHub annotations and
// SARIF, and a change set (the diff of a head against a base) as text,
// markdown for a pull request comment, or JSON.
package report
