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

// tallyOrder fixes the order of a summary's parts.
var tallyOrder = []string{"deactivated", "activated", "already deactivated", "already active",
	"granted", "re-granted", "already granted", "revoked", "already revoked", "not granted", "not revoked", "still revoked"}

func tallyRank(label string) int {
	for i, l := range tallyOrder {
		if l == label {
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
// granted, revoked ones are re-granted, granted ones (by entry or by an
// active grants.all) are left alone.
func (a *Apply) Grant(ids []string) error {
	if !a.grantable() {
		return nil
	}
	for _, id := range ids {
		c, ok := a.selectCustomer(id)
		if !ok {
			continue
		}
		if i, has := a.index[id]; has {
			if a.promo.Grants.Customers[i].State == promotions.StateGranted {
				a.count("already granted")
				continue
			}
			if !a.eligible(id, c) {
				continue
			}
			if err := a.regrantEntry(i); err != nil {
				return err
			}
			a.count("re-granted")
			continue
		}
		if !a.eligible(id, c) {
			continue
		}
		if a.allActive() {
			a.count("already granted")
			continue
		}
		a.newItems = append(a.newItems, []yamldoc.Field{{Key: "id", Value: id}, {Key: "state", Value: string(promotions.StateGranted)}, {Key: "granted_at", Value: a.at}})
		a.count("granted")
	}
	return a.markApplied()
}

// GrantAll grants the promotion to every eligible customer through
// grants.all, re-granting a revoked grants.all.
func (a *Apply) GrantAll() error {
	if !a.grantable() {
		return nil
	}
	all := promotions.P("grants", "all")
	switch g := a.promo.Grants.All; {
	case g == nil:
		if err := a.editor.Set(all.Key("granted_at"), a.at); err != nil {
			return err
		}
		a.event("grants.all granted")
	case g.RevokedAt != nil:
		if err := a.editor.Set(all.Key("granted_at"), a.at); err != nil {
			return err
		}
		if err := a.editor.Remove(all.Key("revoked_at")); err != nil {
			return err
		}
		a.event("grants.all re-granted")
	default:
		a.event("grants.all already granted")
	}
	return a.markApplied()
}

// Revoke revokes customers' grants. A customer covered only by an active
// grants.all gets a revoked entry, an exception to all.
func (a *Apply) Revoke(ids []string) error {
	for _, id := range ids {
		c, ok := a.selectCustomer(id)
		if !ok {
			continue
		}
		if i, has := a.index[id]; has {
			g := a.promo.Grants.Customers[i]
			if g.State != promotions.StateGranted {
				a.count("already revoked")
				continue
			}
			if err := a.revokeEntry(i); err != nil {
				return err
			}
			continue
		}
		if !a.allActive() || (a.customers != nil && !a.promo.Eligibility.Allows(c.Plan, c)) {
			a.count("not granted")
			continue
		}
		if granted := a.promo.Grants.All.GrantedAt; a.at.Before(granted) {
			a.refuse(id, "revocation at %s would precede its grant by grants.all at %s", promotions.FormatTime(a.at), promotions.FormatTime(granted))
			continue
		}
		a.newItems = append(a.newItems, []yamldoc.Field{{Key: "id", Value: id}, {Key: "state", Value: string(promotions.StateRevoked)},
			{Key: "granted_at", Value: a.promo.Grants.All.GrantedAt}, {Key: "revoked_at", Value: a.at}})
		a.count("revoked")
	}
	return nil
}

// RevokeAllGranted revokes every granted entry and an active grants.all.
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

// Regrant re-grants revoked customers: entries in state revoked, and
// customers covered only by a revoked grants.all (who get an entry).
func (a *Apply) Regrant(ids []string) error {
	if !a.grantable() {
		return nil
	}
	for _, id := range ids {
		c, ok := a.selectCustomer(id)
		if !ok {
			continue
		}
		i, has := a.index[id]
		switch {
		case has && a.promo.Grants.Customers[i].State == promotions.StateGranted:
			a.count("already granted")
		case has:
			if a.eligible(id, c) {
				if err := a.regrantEntry(i); err != nil {
					return err
				}
				a.count("re-granted")
			}
		case a.allRevoked() && (a.customers == nil || a.promo.Eligibility.Allows(c.Plan, c)):
			a.newItems = append(a.newItems, []yamldoc.Field{{Key: "id", Value: id}, {Key: "state", Value: string(promotions.StateGranted)}, {Key: "granted_at", Value: a.at}})
			a.count("re-granted")
		case a.allActive():
			a.count("already granted")
		default:
			a.count("not revoked")
		}
	}
	return nil
}

// RegrantAllRevoked re-grants every revoked entry and a revoked grants.all.
func (a *Apply) RegrantAllRevoked() error {
	if !a.grantable() {
		return nil
	}
	for i, g := range a.promo.Grants.Customers {
		if g.State != promotions.StateRevoked || a.index[g.ID] != i {
			continue
		}
		var c *promotions.Customer
		if a.customers != nil {
			c = a.customers[g.ID]
		}
		if !a.eligible(g.ID, c) {
			continue
		}
		if err := a.regrantEntry(i); err != nil {
			return err
		}
		a.count("re-granted")
	}
	if a.allRevoked() {
		all := promotions.P("grants", "all")
		if err := a.editor.Set(all.Key("granted_at"), a.at); err != nil {
			return err
		}
		if err := a.editor.Remove(all.Key("revoked_at")); err != nil {
			return err
		}
		a.event("grants.all re-granted")
	}
	return nil
}

// Deactivate sets status deactivated and revokes every granted entry and
// an active grants.all at the same instant.
func (a *Apply) Deactivate() error {
	if a.promo.Status == promotions.StatusDeactivated {
		a.event("already deactivated")
		return nil
	}
	if err := a.editor.Set(promotions.P("status"), string(promotions.StatusDeactivated)); err != nil {
		return err
	}
	if err := a.editor.Set(promotions.P("deactivated_at"), a.at); err != nil {
		return err
	}
	a.event("deactivated")
	return a.RevokeAllGranted()
}

// Activate sets status back to active. Customers revoked by the
// deactivation stay revoked until re-granted.
func (a *Apply) Activate() error {
	if a.promo.Status != promotions.StatusDeactivated {
		a.event("already active")
		return nil
	}
	if err := a.editor.Set(promotions.P("status"), string(promotions.StatusActive)); err != nil {
		return err
	}
	if err := a.editor.Remove(promotions.P("deactivated_at")); err != nil {
		return err
	}
	a.event("activated")
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
		a.event("grants.all still revoked")
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
		a.event("already active")
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
	stillRevoked := 0
	for i, g := range p.Grants.Customers {
		if g.State != promotions.StateRevoked || a.index[g.ID] != i {
			continue
		}
		if !restore[g.ID] {
			stillRevoked++
			continue
		}
		var c *promotions.Customer
		if a.customers != nil {
			c = a.customers[g.ID]
		}
		if !a.eligible(g.ID, c) {
			continue
		}
		if err := a.regrantEntry(i); err != nil {
			return err
		}
		a.count("re-granted")
	}
	if all {
		path := promotions.P("grants", "all")
		if err := a.editor.Set(path.Key("granted_at"), a.at); err != nil {
			return err
		}
		if err := a.editor.Remove(path.Key("revoked_at")); err != nil {
			return err
		}
		a.event("grants.all re-granted")
	} else if a.allRevoked() {
		a.event("grants.all still revoked")
	}
	if stillRevoked > 0 {
		a.tally = append(a.tally, tallyItem{label: "still revoked", n: stillRevoked})
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

func (a *Apply) allActive() bool {
	return a.promo.Grants.All != nil && a.promo.Grants.All.RevokedAt == nil
}

func (a *Apply) allRevoked() bool {
	return a.promo.Grants.All != nil && a.promo.Grants.All.RevokedAt != nil
}

func (a *Apply) regrantEntry(i int) error {
	path := promotions.P("grants", "customers", i)
	if err := a.editor.Set(path.Key("state"), string(promotions.StateGranted)); err != nil {
		return err
	}
	if err := a.editor.Set(path.Key("granted_at"), a.at); err != nil {
		return err
	}
	return a.editor.Remove(path.Key("revoked_at"))
}

func (a *Apply) revokeEntry(i int) error {
	g := a.promo.Grants.Customers[i]
	if a.at.Before(g.GrantedAt) {
		a.refuse(g.ID, "revocation at %s would precede its granted_at %s", promotions.FormatTime(a.at), promotions.FormatTime(g.GrantedAt))
		return nil
	}
	path := promotions.P("grants", "customers", i)
	if err := a.editor.Set(path.Key("state"), string(promotions.StateRevoked)); err != nil {
		return err
	}
	if err := a.editor.Set(path.Key("revoked_at"), a.at); err != nil {
		return err
	}
	a.count("revoked")
	return nil
}

func (a *Apply) revokeAll() error {
	if !a.allActive() {
		return nil
	}
	if granted := a.promo.Grants.All.GrantedAt; a.at.Before(granted) {
		a.refuse("", "revocation at %s would precede grants.all.granted_at %s", promotions.FormatTime(a.at), promotions.FormatTime(granted))
		return nil
	}
	if err := a.editor.Set(promotions.P("grants", "all", "revoked_at"), a.at); err != nil {
		return err
	}
	a.event("grants.all revoked")
	return nil
}

// markApplied sets is_applied once the plan grants anything.
func (a *Apply) markApplied() error {
	if a.promo.IsApplied || !a.Changed() {
		return nil
	}
	return a.editor.Set(promotions.P("is_applied"), true)
}

func (a *Apply) count(label string) {
	for i := range a.tally {
		if a.tally[i].label == label {
			a.tally[i].n++
			return
		}
	}
	a.tally = append(a.tally, tallyItem{label: label, n: 1})
}

func (a *Apply) event(label string) { a.tally = append(a.tally, tallyItem{label: label, n: -1}) }

func (a *Apply) refuse(id, format string, args ...any) {
	a.refused = append(a.refused, Refusal{ID: id, Reason: fmt.Sprintf(format, args...)})
}
