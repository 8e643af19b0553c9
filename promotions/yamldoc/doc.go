// Package yamldoc reads and writes config files as YAML: parsing with
// goccy/go-yaml into a syntax tree with source positions (and a fast path
// for plain block YAML held equal to goccy's parser), decoding a document
// into the domain model, comment-preserving edits by byte offset, and the
// template of a new promotion file. Diagnostics point at the line and
// column an editor shows.
package yamldoc
