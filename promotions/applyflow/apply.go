package applyflow

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// Refusal says why one customer (or, with an empty ID, the whole command)
// cannot be changed.
type Refusal struct {
	ID     string
	Reason string
}

// Apply plans one apply-flow command (grant, revoke, regrant, deactivate,
// activate) on a promotion: it decides each selected customer's outcome by
// the state rules of docs/apply-flow.md and docs/rules.md and records the matching edits of the file.
// Nothing is written here; a refused plan must not be written at all.
type Apply struct {
	promo *promotions.Promotion
	src   []byte // the promotion file's content the plan edits
	// customers is the directory; nil when the repo has none, in which case
	// any customer id may be granted and eligibility is left to query time.
	customers map[string]*promotions.Customer
	at        time.Time
	editor    *yamldoc.Editor
	index     map[string]int // customer id -> first entry in grants.customers
	seen      map[string]bool
	newItems  [][]yamldoc.Field
	tally     []tallyItem
	refused   []Refusal
}

type tallyItem struct {
	label string
	n     int // -1 for an event without a count
}

// NewApply prepares a plan for promotion p, whose file content is src, at
// instant at. customers is the directory, nil when the repo has none.
func NewApply(p *promotions.Promotion, src []byte, customers map[string]*promotions.Customer, at time.Time) (*Apply, error) {
	ed, err := yamldoc.NewEditor(p.File, src)
	if err != nil {
		return nil, err
	}
	a := &Apply{promo: p, src: src, customers: customers, at: at.UTC(), editor: ed,
		index: make(map[string]int, len(p.Grants.Customers)), seen: map[string]bool{}}
	for i, g := range p.Grants.Customers {
		if _, dup := a.index[g.ID]; !dup {
			a.index[g.ID] = i
		}
	}
	return a, nil
}

// Refused lists every refusal, the whole-command one first.
func (a *Apply) Refused() []Refusal { return a.refused }

// Changed reports whether the plan edits the file.
func (a *Apply) Changed() bool { return a.editor.Changed() || len(a.newItems) > 0 }

// Summary is the one-line outcome, such as "granted 37, already granted
// 3"; refusals are not part of it (see Refused).
func (a *Apply) Summary() string {
	items := append([]tallyItem(nil), a.tally...)
	sort.SliceStable(items, func(i, j int) bool { return tallyRank(items[i].label) < tallyRank(items[j].label) })
	parts := make([]string, 0, len(items))
	for _, t := range items {
		if t.n < 0 {
			parts = append(parts, t.label)
		} else {
			parts = append(parts, fmt.Sprintf("%s %d", t.label, t.n))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

// Outcomes of the apply flow that change nothing, beside the changes of
// promotions.Outcome.
const (
	alreadyActive      promotions.Outcome = "already active"
	alreadyDeactivated promotions.Outcome = "already deactivated"
	alreadyExpired     promotions.Outcome = "already expired"
	alreadyGranted     promotions.Outcome = "already granted"
	alreadyRevoked     promotions.Outcome = "already revoked"
	alreadyScheduled   promotions.Outcome = "already scheduled"
	notGranted         promotions.Outcome = "not granted"
	notRevoked         promotions.Outcome = "not revoked"
	stillRevoked       promotions.Outcome = "still revoked"
)

// tallyOrder fixes the order of a summary's parts; events about grants.all
// come after them.
var tallyOrder = []promotions.Outcome{promotions.OutcomeDeactivated, promotions.OutcomeActivated, alreadyDeactivated, alreadyActive,
	promotions.OutcomeGranted, promotions.OutcomeRenewed, promotions.OutcomeRegranted, alreadyGranted, alreadyScheduled,
	promotions.OutcomeRevoked, alreadyRevoked, alreadyExpired, notGranted, notRevoked, stillRevoked}

func tallyRank(label string) int {
	for i, l := range tallyOrder {
		if string(l) == label {
			return i
		}
	}
	return len(tallyOrder)
}

// RefusedCustomers counts the customers refused (not the whole command).
func (a *Apply) RefusedCustomers() int {
	n := 0
	for _, r := range a.refused {
		if r.ID != "" {
			n++
		}
	}
	return n
}

// Result returns the edited file and the edits that made it, re-parsed to
// check that it is still one YAML document. It must not be written when
// Refused is not empty.
func (a *Apply) Result() ([]byte, []yamldoc.Edit, error) {
	out, edits, err := a.Unchecked()
	if err != nil {
		return nil, nil, err
	}
	if doc, diags := yamldoc.ParseDocument(a.promo.File, out, promotions.DefaultLimits); doc == nil {
		return nil, nil, fmt.Errorf("edit %s produced a document that does not parse: %s", a.promo.File, diags[0].Message)
	}
	return out, edits, nil
}

// Unchecked is Result without the re-parse, for a caller that validates
// the result in full anyway before writing it.
func (a *Apply) Unchecked() ([]byte, []yamldoc.Edit, error) {
	if len(a.newItems) > 0 {
		if err := a.editor.Append(promotions.P("grants", "customers"), a.newItems...); err != nil {
			return nil, nil, err
		}
		a.newItems = nil
	}
	out, err := a.editor.Render()
	if err != nil {
		return nil, nil, err
	}
	return out, a.editor.Edits(), nil
}

// Grant grants the promotion to customers: new ones get an entry in state
// granted; an entry whose last period has ended (expired or revoked) gets
// a new period, the ended one kept in previous (docs/apply-flow.md, "Grant
// periods"); an entry whose period holds --at is already granted, one
// whose next period starts later already scheduled; a customer covered by
// an active grants.all is already granted.
func (a *Apply) Grant(ids []string) error {
	if !a.grantable() {
		return nil
	}
	err := a.eachSelected(ids, func(id string, c *promotions.Customer) {
		switch {
		case !a.eligible(id, c):
		case a.allHolds():
			a.count(alreadyGranted)
		default:
			a.newEntry(id)
			a.count(promotions.OutcomeGranted)
		}
	})
	if err != nil {
		return err
	}
	return a.markApplied()
}

// eachSelected goes through the selected customers the directory knows
// (or any, without one): a customer with an entry gets a new period when
// its last one has ended and it is eligible; one without an entry is
// handed to other.
func (a *Apply) eachSelected(ids []string, other func(id string, c *promotions.Customer)) error {
	for _, id := range ids {
		c, ok := a.selectCustomer(id)
		if !ok {
			continue
		}
		if i, has := a.index[id]; has {
			if a.endedEntry(i) && a.eligible(id, c) {
				if err := a.renewEntry(i); err != nil {
					return err
				}
			}
			continue
		}
		other(id, c)
	}
	return nil
}

// newEntry adds an entry granted at the plan's instant.
func (a *Apply) newEntry(id string) {
	a.newItems = append(a.newItems, []yamldoc.Field{{Key: "id", Value: id}, {Key: "state", Value: string(promotions.StateGranted)}, {Key: "granted_at", Value: a.at}})
}

// endedEntry reports whether entry i's last period has ended at the
// plan's instant, so that a grant may start a new one; otherwise it
// counts the entry as already granted or already scheduled, or refuses an
// instant before the end of its last period.
func (a *Apply) endedEntry(i int) bool {
	g := &a.promo.Grants.Customers[i]
	outcome, ended := a.lastPeriodEnded(g.Periods(), g.ID, "its last period")
	if outcome != "" {
		a.count(outcome)
	}
	return ended
}

// lastPeriodEnded tells whether the last of periods has ended at the
// plan's instant. When it has not, it names the outcome (already granted,
// already scheduled), or refuses for id (one customer, "" for grants.all)
// an instant before the period's end and names no outcome.
func (a *Apply) lastPeriodEnded(periods []promotions.Period, id, what string) (promotions.Outcome, bool) {
	switch a.promo.EffectiveAt(periods, a.at).State {
	case promotions.EffectiveActive:
		return alreadyGranted, false
	case promotions.EffectiveScheduled:
		return alreadyScheduled, false
	}
	if end := a.promo.Span(periods[len(periods)-1]).End; end != nil && a.at.Before(*end) {
		a.refuse(id, "%s is before the end of %s at %s", promotions.FormatTime(a.at), what, promotions.FormatTime(*end))
		return "", false
	}
	return "", true
}

// GrantAll grants the promotion to every eligible customer through
// grants.all; an ended grants.all gets a new period.
func (a *Apply) GrantAll() error {
	if !a.grantable() {
		return nil
	}
	all := promotions.P("grants", "all")
	g := a.promo.Grants.All
	if g == nil {
		if err := a.editor.Set(all.Key("granted_at"), a.at); err != nil {
			return err
		}
		a.allEvent(promotions.OutcomeGranted)
		return a.markApplied()
	}
	outcome, ended := a.lastPeriodEnded(g.Periods(), "", "grants.all's last period")
	if outcome != "" {
		a.allEvent(outcome)
	}
	if !ended {
		return nil
	}
	if err := a.renewAll(); err != nil {
		return err
	}
	return a.markApplied()
}

// Revoke revokes customers' grants: an active period ends at --at, a
// scheduled one is emptied (revoked_at = granted_at), an ended one is left
// as it is. A customer covered only by an active grants.all gets a revoked
// entry, an exception to all whose first period copies all's current
// granted_at, so that the past under all is kept.
func (a *Apply) Revoke(ids []string) error {
	for _, id := range ids {
		c, ok := a.selectCustomer(id)
		if !ok {
			continue
		}
		if i, has := a.index[id]; has {
			if err := a.revokeEntry(i); err != nil {
				return err
			}
			continue
		}
		if !a.allHolds() || (a.customers != nil && !a.promo.Eligibility.Allows(c.Plan, c)) {
			a.count(notGranted)
			continue
		}
		a.newItems = append(a.newItems, []yamldoc.Field{{Key: "id", Value: id}, {Key: "state", Value: string(promotions.StateRevoked)},
			{Key: "granted_at", Value: a.promo.Grants.All.GrantedAt}, {Key: "revoked_at", Value: a.at}})
		a.count(promotions.OutcomeRevoked)
	}
	return nil
}

// RevokeAllGranted revokes every entry in state granted and grants.all.
func (a *Apply) RevokeAllGranted() error {
	for i, g := range a.promo.Grants.Customers {
		if g.State == promotions.StateGranted && a.index[g.ID] == i {
			if err := a.revokeEntry(i); err != nil {
				return err
			}
		}
	}
	return a.revokeAll()
}

// Regrant re-grants customers whose grant has ended (revoked or expired):
// each gets a new period; customers covered only by an ended grants.all
// get an entry.
func (a *Apply) Regrant(ids []string) error {
	if !a.grantable() {
		return nil
	}
	return a.eachSelected(ids, func(id string, c *promotions.Customer) {
		switch {
		case a.allHolds():
			a.count(alreadyGranted)
		case a.allEnded() && (a.customers == nil || a.promo.Eligibility.Allows(c.Plan, c)):
			a.newEntry(id)
			a.count(promotions.OutcomeRegranted)
		default:
			a.count(notRevoked)
		}
	})
}

// RegrantAllRevoked re-grants every entry whose grant has ended (the
// Revoked filter: revoked or expired) and an ended grants.all.
func (a *Apply) RegrantAllRevoked() error {
	if !a.grantable() {
		return nil
	}
	for i, g := range a.promo.Grants.Customers {
		if a.index[g.ID] != i {
			continue
		}
		switch a.promo.EffectiveAt(g.Periods(), a.at).State {
		case promotions.EffectiveActive, promotions.EffectiveScheduled:
			continue
		}
		var c *promotions.Customer
		if a.customers != nil {
			c = a.customers[g.ID]
		}
		if !a.endedEntry(i) || !a.eligible(g.ID, c) {
			continue
		}
		if err := a.renewEntry(i); err != nil {
			return err
		}
	}
	if all := a.promo.Grants.All; all != nil {
		switch a.promo.EffectiveAt(all.Periods(), a.at).State {
		case promotions.EffectiveExpired, promotions.EffectiveRevoked:
			return a.renewAll()
		}
	}
	return nil
}

// Deactivate sets status deactivated and stamps every entry still in
// state granted (ended or not) and grants.all with revoked_at at the same
// instant — or at its granted_at for a period that had not started — so
// that what the promotion gave before stays in the past.
func (a *Apply) Deactivate() error {
	if a.promo.Status == promotions.StatusDeactivated {
		a.event(alreadyDeactivated)
		return nil
	}
	if err := a.editor.Set(promotions.P("status"), string(promotions.StatusDeactivated)); err != nil {
		return err
	}
	if err := a.editor.Set(promotions.P("deactivated_at"), a.at); err != nil {
		return err
	}
	a.event(promotions.OutcomeDeactivated)
	for i, g := range a.promo.Grants.Customers {
		if g.State != promotions.StateGranted || a.index[g.ID] != i {
			continue
		}
		path := promotions.P("grants", "customers", i)
		if err := a.editor.Set(path.Key("state"), string(promotions.StateRevoked)); err != nil {
			return err
		}
		if err := a.editor.Set(path.Key("revoked_at"), latest(a.at, g.GrantedAt)); err != nil {
			return err
		}
		a.count(promotions.OutcomeRevoked)
	}
	if all := a.promo.Grants.All; all != nil && all.RevokedAt == nil {
		if err := a.editor.Set(promotions.P("grants", "all", "revoked_at"), latest(a.at, all.GrantedAt)); err != nil {
			return err
		}
		a.allEvent(promotions.OutcomeRevoked)
	}
	return nil
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Activate sets status back to active. Customers revoked by the
// deactivation stay revoked until re-granted.
func (a *Apply) Activate() error {
	if a.promo.Status != promotions.StatusDeactivated {
		a.event(alreadyActive)
		return nil
	}
	if err := a.editor.Set(promotions.P("status"), string(promotions.StatusActive)); err != nil {
		return err
	}
	if err := a.editor.Remove(promotions.P("deactivated_at")); err != nil {
		return err
	}
	a.event(promotions.OutcomeActivated)
	revoked := 0
	for i, g := range a.promo.Grants.Customers {
		if g.State == promotions.StateRevoked && a.index[g.ID] == i {
			revoked++
		}
	}
	if revoked > 0 {
		a.tally = append(a.tally, tallyItem{label: "still revoked", n: revoked})
	}
	if a.allRevoked() {
		a.allEvent(stillRevoked)
	}
	return nil
}

// RevokedByDeactivation returns what deactivating p revoked: the customers
// whose entry is revoked at exactly its deactivated_at, and whether
// grants.all was. Customers revoked before the deactivation are not among
// them. Nothing, when p is not deactivated.
func RevokedByDeactivation(p *promotions.Promotion) (ids []string, all bool) {
	if p.Status != promotions.StatusDeactivated || p.DeactivatedAt == nil {
		return nil, false
	}
	at := *p.DeactivatedAt
	seen := map[string]bool{}
	for _, g := range p.Grants.Customers {
		if seen[g.ID] {
			continue
		}
		seen[g.ID] = true
		if g.State == promotions.StateRevoked && g.RevokedAt != nil && g.RevokedAt.Equal(at) {
			ids = append(ids, g.ID)
		}
	}
	all = p.Grants.All != nil && p.Grants.All.RevokedAt != nil && p.Grants.All.RevokedAt.Equal(at)
	return ids, all
}

// ActivateRestore activates a deactivated promotion and, in the same edit,
// re-grants at the plan's instant what the deactivation revoked: each
// entry (and grants.all) whose revoked_at equals the deactivated_at being
// cleared. Customers revoked before the deactivation stay revoked. The
// re-grants follow grant's rules: inside the window, eligible customers,
// and not before the deactivation.
func (a *Apply) ActivateRestore() error {
	p := a.promo
	if p.Status != promotions.StatusDeactivated {
		a.event(alreadyActive)
		return nil
	}
	ids, all := RevokedByDeactivation(p)
	if p.DeactivatedAt != nil && a.at.Before(*p.DeactivatedAt) {
		a.refuse("", "restoring at %s would precede the deactivation at %s", promotions.FormatTime(a.at), promotions.FormatTime(*p.DeactivatedAt))
		return nil
	}
	if (len(ids) > 0 || all) && !p.Window.Contains(a.at) {
		a.refuse("", "%s is outside the promotion window %s: nothing can be re-granted", promotions.FormatTime(a.at), p.Window.String())
		return nil
	}
	if err := a.Activate(); err != nil {
		return err
	}
	// Activate counted every revoked entry as still revoked; recount.
	a.tally = slices.DeleteFunc(a.tally, func(t tallyItem) bool {
		return t.label == "still revoked" || t.label == "grants.all still revoked"
	})
	restore := make(map[string]bool, len(ids))
	for _, id := range ids {
		restore[id] = true
	}
	leftRevoked := 0
	for i, g := range p.Grants.Customers {
		if g.State != promotions.StateRevoked || a.index[g.ID] != i {
			continue
		}
		if !restore[g.ID] {
			leftRevoked++
			continue
		}
		var c *promotions.Customer
		if a.customers != nil {
			c = a.customers[g.ID]
		}
		if !a.eligible(g.ID, c) {
			continue
		}
		if err := a.renewEntry(i); err != nil {
			return err
		}
	}
	if all {
		if err := a.renewAll(); err != nil {
			return err
		}
	} else if a.allRevoked() {
		a.allEvent(stillRevoked)
	}
	if leftRevoked > 0 {
		a.tally = append(a.tally, tallyItem{label: string(stillRevoked), n: leftRevoked})
	}
	return nil
}

// grantable refuses the whole command when grants cannot be made at all.
func (a *Apply) grantable() bool {
	p := a.promo
	if p.Status == promotions.StatusDeactivated {
		since := ""
		if p.DeactivatedAt != nil {
			since = " since " + promotions.FormatTime(*p.DeactivatedAt)
		}
		a.refuse("", "promotion %s is deactivated%s: activate it first", p.ID, since)
		return false
	}
	if !p.Window.Contains(a.at) {
		a.refuse("", "%s is outside the promotion window %s", promotions.FormatTime(a.at), p.Window.String())
		return false
	}
	return true
}

// selectCustomer checks an id once per command; it returns the directory
// entry (nil without a directory) and false when the id is refused or was
// already handled.
func (a *Apply) selectCustomer(id string) (*promotions.Customer, bool) {
	if a.seen[id] {
		return nil, false
	}
	a.seen[id] = true
	if !promotions.ValidCustomerID(id) {
		a.refuse(id, "not a valid customer id")
		return nil, false
	}
	if a.customers == nil {
		return nil, true
	}
	c, ok := a.customers[id]
	if !ok {
		a.refuse(id, "not in the customer directory")
		return nil, false
	}
	return c, true
}

func (a *Apply) eligible(id string, c *promotions.Customer) bool {
	if c == nil || a.promo.Eligibility.Allows(c.Plan, c) {
		return true
	}
	attrs := make([]string, 0, len(c.Attributes))
	for _, k := range promotions.SortedKeys(c.Attributes) {
		attrs = append(attrs, k+" "+c.Attributes[k])
	}
	who := "plan " + c.Plan
	if len(attrs) > 0 {
		who += ", " + strings.Join(attrs, ", ")
	}
	a.refuse(id, "not eligible (%s; eligibility: %s)", who, a.promo.Eligibility)
	return false
}

// allHolds reports whether grants.all has a period that holds the plan's
// instant.
func (a *Apply) allHolds() bool {
	all := a.promo.Grants.All
	return all != nil && a.promo.EffectiveAt(all.Periods(), a.at).State == promotions.EffectiveActive
}

// allEnded reports whether grants.all's last period has ended (expired or
// revoked) at the plan's instant.
func (a *Apply) allEnded() bool {
	all := a.promo.Grants.All
	if all == nil {
		return false
	}
	switch a.promo.EffectiveAt(all.Periods(), a.at).State {
	case promotions.EffectiveExpired, promotions.EffectiveRevoked:
		return true
	}
	return false
}

func (a *Apply) allRevoked() bool {
	return a.promo.Grants.All != nil && a.promo.Grants.All.RevokedAt != nil
}

// renewEntry starts a new period of entry i at the plan's instant: the
// ended period moves, unchanged, to the end of previous. It counts
// "renewed" after an expiry and "re-granted" after a revocation.
func (a *Apply) renewEntry(i int) error {
	g := &a.promo.Grants.Customers[i]
	path := promotions.P("grants", "customers", i)
	if err := a.startPeriod(path, g.GrantedAt, g.RevokedAt); err != nil {
		return err
	}
	if g.State != promotions.StateGranted {
		if err := a.editor.Set(path.Key("state"), string(promotions.StateGranted)); err != nil {
			return err
		}
	}
	a.count(a.promo.NewPeriodOutcome(promotions.Period{GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt}))
	return nil
}

// renewAll starts a new period of grants.all at the plan's instant.
func (a *Apply) renewAll() error {
	g := a.promo.Grants.All
	if err := a.startPeriod(promotions.P("grants", "all"), g.GrantedAt, g.RevokedAt); err != nil {
		return err
	}
	a.allEvent(a.promo.NewPeriodOutcome(promotions.Period{GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt}))
	return nil
}

// startPeriod appends the grant at path's current period to its previous
// periods (one flow mapping per line) and sets a new granted_at. The
// period moves as written: its values keep their spelling and the comments
// at the end of their lines go with them, onto the period's line in
// previous; the new granted_at line starts without a comment (docs/apply-flow.md,
// "Comments").
func (a *Apply) startPeriod(path promotions.Path, grantedAt time.Time, revokedAt *time.Time) error {
	var comments []yamldoc.Field
	moved := func(key string, v time.Time) yamldoc.Field {
		text, comment, ok := a.editor.Written(path.Key(key))
		if comment != "" {
			comments = append(comments, yamldoc.Field{Value: yamldoc.Comment(comment)})
		}
		if ok && !strings.ContainsAny(text, ",[]{}#") {
			return yamldoc.Field{Key: key, Value: yamldoc.Verbatim(text)}
		}
		return yamldoc.Field{Key: key, Value: v}
	}
	item := []yamldoc.Field{moved("granted_at", grantedAt)}
	if revokedAt != nil {
		item = append(item, moved("revoked_at", *revokedAt))
	}
	if err := a.editor.AppendFlow(path.Key("previous"), append(item, comments...)); err != nil {
		return err
	}
	if err := a.editor.Rewrite(path.Key("granted_at"), a.at); err != nil {
		return err
	}
	return a.editor.Remove(path.Key("revoked_at"))
}

// revokeEntry ends entry i's grant: an active period at the plan's
// instant, a scheduled one before it starts (revoked_at = granted_at); an
// ended one is left alone and counted as such.
func (a *Apply) revokeEntry(i int) error {
	g := &a.promo.Grants.Customers[i]
	revokedAt := a.at
	switch a.promo.EffectiveAt(g.Periods(), a.at).State {
	case promotions.EffectiveExpired:
		a.count(alreadyExpired)
		return nil
	case promotions.EffectiveRevoked:
		a.count(alreadyRevoked)
		return nil
	case promotions.EffectiveScheduled:
		if !g.GrantedAt.After(a.at) {
			a.refuse(g.ID, "revocation at %s falls between two periods; the next one starts at %s", promotions.FormatTime(a.at), promotions.FormatTime(g.GrantedAt))
			return nil
		}
		revokedAt = g.GrantedAt
	}
	path := promotions.P("grants", "customers", i)
	if err := a.editor.Set(path.Key("state"), string(promotions.StateRevoked)); err != nil {
		return err
	}
	if err := a.editor.Set(path.Key("revoked_at"), revokedAt); err != nil {
		return err
	}
	a.count(promotions.OutcomeRevoked)
	return nil
}

func (a *Apply) revokeAll() error {
	all := a.promo.Grants.All
	if all == nil {
		return nil
	}
	revokedAt := a.at
	switch a.promo.EffectiveAt(all.Periods(), a.at).State {
	case promotions.EffectiveExpired, promotions.EffectiveRevoked:
		return nil
	case promotions.EffectiveScheduled:
		revokedAt = all.GrantedAt
	}
	if err := a.editor.Set(promotions.P("grants", "all", "revoked_at"), revokedAt); err != nil {
		return err
	}
	a.allEvent(promotions.OutcomeRevoked)
	return nil
}

// markApplied sets is_applied once the plan grants anything.
func (a *Apply) markApplied() error {
	if a.promo.IsApplied || !a.Changed() {
		return nil
	}
	return a.editor.Set(promotions.P("is_applied"), true)
}

func (a *Apply) count(o promotions.Outcome) {
	label := string(o)
	for i := range a.tally {
		if a.tally[i].label == label {
			a.tally[i].n++
			return
		}
	}
	a.tally = append(a.tally, tallyItem{label: label, n: 1})
}

func (a *Apply) event(o promotions.Outcome) {
	a.tally = append(a.tally, tallyItem{label: string(o), n: -1})
}

// allEvent records what happened to grants.all.
func (a *Apply) allEvent(o promotions.Outcome) { a.event("grants.all " + o) }

func (a *Apply) refuse(id, format string, args ...any) {
	a.refused = append(a.refused, Refusal{ID: id, Reason: fmt.Sprintf(format, args...)})
}
