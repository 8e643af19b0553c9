// Package promotions is the domain model of a promoctl config repo —
// features, plans, customers, promotional entitlements and their grants —
// and its YAML I/O: parsing with source positions, decoding into the model,
// and the comment-preserving edits used by the apply-flow commands.
//
// Nothing here knows about CUE, memdb or HTTP: other packages validate,
// compile and serve what this package reads.
package promotions
