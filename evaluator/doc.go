// Package evaluator answers "may customer X use feature F, and how much?"
// from a compiled snapshot (the pure decision function of SPEC §5), and runs
// the sidecar around it: the file watcher with last-known-good reloads and
// the HTTP server (native API, OFREP, health and metrics).
package evaluator
