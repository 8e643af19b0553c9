// Package compiler turns a config repo into a validated model and a
// go-memdb snapshot: it walks the tree, parses and schema-checks every file
// (in parallel, cached by content hash), runs the cross-file rules that CUE
// cannot express, and builds the indexed tables the evaluator reads. It also
// diffs a head tree against a base tree for the is_applied lock.
package compiler
