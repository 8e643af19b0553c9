// Package suggest finds the known names closest to a mistyped one, for the
// "did you mean …?" of messages about unknown plans, features and
// customers.
package suggest
