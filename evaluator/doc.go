// Package evaluator answers "may customer X use feature F, and how much,
// and why?" from a compiled snapshot: the pure decision function the
// README describes under "How a decision is made", and its JSON form. It
// reads the snapshot only (compiler/snapshot) and imports nothing that
// parses, so every consumer — the sidecar (evaluator/server, store,
// watch, source), the in-process provider (openfeature) and explain —
// gives the same answer.
package evaluator
