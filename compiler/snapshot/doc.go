// Package snapshot holds the compiled, indexed form of one valid revision
// of a config repo: the go-memdb tables (one factory per table, names as
// constants) and, beside them, the lookups of a decision (customers with
// their grants in one immutable radix tree, features and plans in maps),
// Build from a model, Update of a serving snapshot by only what
// changed, and the Reader the decision path looks rows up with. It imports
// the domain model and nothing that parses, so whatever serves decisions
// (the sidecar, a bundle reader, an embedded provider) carries no parser.
package snapshot
