// Package ofrep is the one mapping between promoctl decisions and
// OpenFeature evaluations, as OFREP (the OpenFeature Remote Evaluation
// Protocol) carries them: the evaluation context read as a query
// (targetingKey is the customer, "plan" the plan, other string values
// attributes), a decision turned into a value, reason, variant and
// metadata, and the error codes. The sidecar's /ofrep routes and the
// in-process provider (package openfeature) both use it, so a service gets
// the same answer from either. See docs/sidecar.md and docs/go.md.
package ofrep
