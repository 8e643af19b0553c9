// Package compiler turns a config repo into a validated model: it walks
// the tree, parses and schema-checks every file (in parallel, cached by
// content hash), and runs the cross-file rules that CUE cannot express.
// It also compares a head tree with a base tree: the is_applied lock and
// the change set a pull request makes. The model becomes a snapshot in
// compiler/snapshot; report renders the results.
package compiler
