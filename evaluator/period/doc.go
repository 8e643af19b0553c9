// Package period is the arithmetic of allowance periods: given how a
// bucket resets (never, daily, weekly, monthly, yearly), where its periods
// are counted from (a grant's granted_at, a customer's billing_anchor, or
// the UTC calendar) and the bucket's lifetime, it says which period holds
// an instant. Decisions use it to give each bucket its current period, and
// usage keys its counters by the periods it returns, so both always agree
// on when an allowance starts over. Instants are Unix microseconds, as in
// the snapshot; months and years clamp to the end of the month and are
// always counted from the anchor, so a period never drifts.
package period
