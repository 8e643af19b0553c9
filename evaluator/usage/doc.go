// Package usage is the arithmetic of metered consumption: given the
// allowance buckets that hold at an instant, what each has used in its
// current period and an amount, it says what a consume takes from which
// bucket (soonest-ending period first, all or nothing under block, overage
// on the last bucket under soft, an unlimited bucket taking everything,
// suspended buckets left alone) and what a release gives back. It also
// defines the Store interface the sidecar and the Go client consume
// through; the stores themselves live in sub-packages (bolt, redis) so that
// this package — and the pure decision path — import no store driver.
package usage
