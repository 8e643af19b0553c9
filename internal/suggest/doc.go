// Package suggest finds the known names closest to a mistyped one, and
// renders them, for every "did you mean …?" of promoctl: mistyped flags,
// unknown promotion and customer ids, and unknown values such as plans and
// features.
package suggest
