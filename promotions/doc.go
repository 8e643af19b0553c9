// Package promotions is the domain model of a promoctl config repo —
// features, plans, customers, promotional entitlements and their grants,
// the whole repo as a Model — and the diagnostics that point into it.
// It imports only the standard library: reading YAML (promotions/yamldoc),
// the apply-flow rules (promotions/applyflow), validation (schema,
// compiler) and serving (evaluator) all build on it.
package promotions
