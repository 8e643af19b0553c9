package promotions

// Outcome names what a change did to a grant or a promotion. Apply-flow
// summaries, change sets (diff) and the history from git use the same
// words, so an operator reads one vocabulary everywhere.
type Outcome string

// Outcomes of a change.
const (
	OutcomeGranted           Outcome = "granted"
	OutcomeRenewed           Outcome = "renewed"    // a new period after one that expired
	OutcomeRegranted         Outcome = "re-granted" // a new period after one that was revoked
	OutcomeRevoked           Outcome = "revoked"
	OutcomeGrantedAndRevoked Outcome = "granted and revoked"
	OutcomeModified          Outcome = "modified"
	OutcomeRemoved           Outcome = "removed"
	OutcomeDeactivated       Outcome = "deactivated"
	OutcomeActivated         Outcome = "activated"
	OutcomeReactivated       Outcome = "reactivated" // status back to active, in a change set
)

// NewPeriodOutcome names the start of a period after ended: renewed when
// ended expired by its natural end, re-granted when it was revoked.
func (p *Promotion) NewPeriodOutcome(ended Period) Outcome {
	if p.Span(ended).Revoked {
		return OutcomeRegranted
	}
	return OutcomeRenewed
}
