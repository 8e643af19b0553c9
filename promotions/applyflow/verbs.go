package applyflow

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/promoctl/promoctl/promotions"
)

// Verb names an apply-flow command; it starts the summary line, the commit
// message and the console's branch name.
type Verb string

// The verbs of the apply flow.
const (
	VerbGrant      Verb = "grant"
	VerbRevoke     Verb = "revoke"
	VerbRegrant    Verb = "regrant"
	VerbDeactivate Verb = "deactivate"
	VerbActivate   Verb = "activate"
)

// Selection names the customers of a grant, revoke or regrant: exactly
// one of IDs, Search and All.
type Selection struct {
	// IDs are customer ids, in the order given; duplicates count once.
	IDs []string
	// Search selects the customers whose id, name or email contains it
	// (case-insensitive): in the customer directory for a grant, among the
	// promotion's customers (grants.all included) for a revoke or regrant.
	// A search that matches nobody is a *NoMatchError.
	Search string
	// All grants through grants.all (grant), revokes every granted entry
	// and grants.all (revoke), or re-grants every ended entry and an ended
	// grants.all (regrant).
	All bool
}

// CustomerOptions are those of grant, revoke and regrant.
type CustomerOptions struct {
	// At is the instant of the change (UTC; whole seconds read best).
	At        time.Time
	Customers Selection
}

// DeactivateOptions are those of deactivate.
type DeactivateOptions struct {
	At time.Time
}

// ActivateOptions are those of activate.
type ActivateOptions struct {
	// At is when the re-grants of Restore start.
	At time.Time
	// Restore also re-grants, in the same edit, what the deactivation
	// revoked (see ActivateRestore).
	Restore bool
}

// Result is what one verb did to one promotion. A refused result
// (Refusals not empty) and one that changes nothing have no Change: there
// is nothing to write.
type Result struct {
	Verb Verb
	// Promotion is the promotion as it was before the change.
	Promotion *promotions.Promotion
	// Customers is the selection the verb ran on, searches resolved to
	// ids (nil for All and the status verbs).
	Customers []string
	// All is set when the selection was every customer (Selection.All).
	All bool
	// Summary is the one-line outcome, such as "granted 37, already
	// granted 3" ("nothing to do" when there is none); refusals are not
	// part of it.
	Summary string
	// Refusals lists why customers (or, with an empty ID, the whole
	// command) cannot be changed, the whole-command one first.
	Refusals []Refusal
	// Change is the checked new content of the promotion's file.
	Change *Change
}

// Refused reports whether anything was refused: nothing may be written.
func (r *Result) Refused() bool { return len(r.Refusals) > 0 }

// RefusedCustomers counts the customers refused (not the whole command).
func (r *Result) RefusedCustomers() int {
	n := 0
	for _, rf := range r.Refusals {
		if rf.ID != "" {
			n++
		}
	}
	return n
}

// OnlyCustomersRefused reports whether every refusal names a customer:
// without them, the rest of the change could be made.
func (r *Result) OnlyCustomersRefused() bool {
	n := r.RefusedCustomers()
	return n > 0 && n == len(r.Refusals)
}

// Line is the outcome as one line: "grant spring-api-boost: granted 2".
func (r *Result) Line() string {
	return fmt.Sprintf("%s %s: %s", r.Verb, r.Promotion.ID, r.Summary)
}

// Headline names the change for a commit's first line: "deactivate p",
// "grant p: all eligible customers", "grant p: 3 customers (a, b, c)"
// (at most ten named).
func (r *Result) Headline() string {
	switch {
	case r.Verb == VerbDeactivate || r.Verb == VerbActivate:
		return fmt.Sprintf("%s %s", r.Verb, r.Promotion.ID)
	case r.All && r.Verb == VerbGrant:
		return fmt.Sprintf("%s %s: all eligible customers", r.Verb, r.Promotion.ID)
	case r.All && r.Verb == VerbRevoke:
		return fmt.Sprintf("%s %s: all granted customers", r.Verb, r.Promotion.ID)
	case r.All:
		return fmt.Sprintf("%s %s: all revoked customers", r.Verb, r.Promotion.ID)
	}
	ids := append([]string(nil), r.Customers...)
	sort.Strings(ids)
	names := ids
	if len(names) > 10 {
		names = names[:10]
	}
	list := strings.Join(names, ", ")
	if len(ids) > len(names) {
		list += fmt.Sprintf(", … %d more", len(ids)-len(names))
	}
	noun := "customers"
	if len(ids) == 1 {
		noun = "customer"
	}
	return fmt.Sprintf("%s %s: %d %s (%s)", r.Verb, r.Promotion.ID, len(ids), noun, list)
}

// CommitMessage is the headline, a blank line and the summary.
func (r *Result) CommitMessage() string {
	return r.Headline() + "\n\n" + r.Summary + "\n"
}

// String is the refusal as an operator reads it: "cus_001: not in the
// customer directory", or the reason alone for the whole command.
func (r Refusal) String() string {
	if r.ID == "" {
		return r.Reason
	}
	return r.ID + ": " + r.Reason
}

// ErrNoDirectory is a search over the customer directory of a repo that
// has none (no Customers file).
var ErrNoDirectory = errors.New("the repo has no customer directory (a Customers file) to search")

// NoMatchError is a search that selects no customer.
type NoMatchError struct {
	Query string
}

func (e *NoMatchError) Error() string { return fmt.Sprintf("no customer matches %q", e.Query) }

// Grant grants promotion id to the selected customers (see Apply.Grant
// and Apply.GrantAll).
func (s *Session) Grant(id string, opts CustomerOptions) (*Result, error) {
	return s.changeCustomers(VerbGrant, id, opts, true, (*Apply).Grant, (*Apply).GrantAll)
}

// Revoke revokes promotion id from the selected customers (see
// Apply.Revoke and Apply.RevokeAllGranted).
func (s *Session) Revoke(id string, opts CustomerOptions) (*Result, error) {
	return s.changeCustomers(VerbRevoke, id, opts, false, (*Apply).Revoke, (*Apply).RevokeAllGranted)
}

// Regrant re-grants promotion id to the selected customers whose grant
// has ended (see Apply.Regrant and Apply.RegrantAllRevoked).
func (s *Session) Regrant(id string, opts CustomerOptions) (*Result, error) {
	return s.changeCustomers(VerbRegrant, id, opts, false, (*Apply).Regrant, (*Apply).RegrantAllRevoked)
}

// Deactivate deactivates promotion id (see Apply.Deactivate).
func (s *Session) Deactivate(id string, opts DeactivateOptions) (*Result, error) {
	return s.run(VerbDeactivate, id, opts.At, nil, (*Apply).Deactivate)
}

// Activate activates promotion id, and with Restore re-grants what its
// deactivation revoked (see Apply.Activate and Apply.ActivateRestore).
func (s *Session) Activate(id string, opts ActivateOptions) (*Result, error) {
	do := (*Apply).Activate
	if opts.Restore {
		do = (*Apply).ActivateRestore
	}
	return s.run(VerbActivate, id, opts.At, nil, do)
}

// changeCustomers resolves the selection of grant, revoke or regrant and
// runs byIDs or all. searchDirectory: a search goes through the customer
// directory (grant) instead of the promotion's customers.
func (s *Session) changeCustomers(verb Verb, id string, opts CustomerOptions, searchDirectory bool,
	byIDs func(*Apply, []string) error, all func(*Apply) error) (*Result, error) {
	sel := opts.Customers
	if sel.All {
		res, err := s.run(verb, id, opts.At, nil, all)
		if res != nil {
			res.All = true
		}
		return res, err
	}
	ids := sel.IDs
	if sel.Search != "" {
		p, _, err := s.Promotion(id)
		if err != nil {
			return nil, err
		}
		if ids, err = s.Search(p, sel.Search, searchDirectory); err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			return nil, &NoMatchError{Query: sel.Search}
		}
	}
	return s.run(verb, id, opts.At, ids, func(a *Apply) error { return byIDs(a, ids) })
}

// run plans verb on promotion id at the instant at and, unless it is
// refused or changes nothing, checks the result.
func (s *Session) run(verb Verb, id string, at time.Time, ids []string, do func(*Apply) error) (*Result, error) {
	plan, err := s.Apply(id, at)
	if err != nil {
		return nil, err
	}
	if err := do(plan); err != nil {
		return nil, err
	}
	res := &Result{Verb: verb, Promotion: plan.promo, Customers: ids, Summary: plan.Summary(), Refusals: plan.Refused()}
	if res.Refused() || !plan.Changed() {
		return res, nil
	}
	if res.Change, err = s.CheckApply(plan); err != nil {
		return res, err
	}
	return res, nil
}
