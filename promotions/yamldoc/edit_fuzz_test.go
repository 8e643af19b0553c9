package yamldoc_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/applyflow"
	"github.com/promoctl/promoctl/promotions/yamldoc"
	"github.com/promoctl/promoctl/schema"
)

// fuzzSchema is shared between iterations but compiled anew every
// fuzzSchemaUses validations: a CUE context only grows, and one context
// kept for a whole fuzzing run made every iteration slower than the last
// (the run stalled after ~40k executions).
var (
	fuzzSchemaMu   sync.Mutex
	fuzzSchema     *schema.Schema
	fuzzSchemaUsed int
)

const fuzzSchemaUses = 500

func fuzzValidate(doc *yamldoc.Document) promotions.Diagnostics {
	fuzzSchemaMu.Lock()
	defer fuzzSchemaMu.Unlock()
	if fuzzSchema == nil || fuzzSchemaUsed >= fuzzSchemaUses {
		fuzzSchema, fuzzSchemaUsed = schema.MustCompile(), 0
	}
	fuzzSchemaUsed++
	return fuzzSchema.Validate(doc)
}

// editInstants are the --at values a fuzzed edit may use: inside the
// example campaigns' windows, and long after every one of them.
var editInstants = []time.Time{
	time.Date(2026, 4, 15, 12, 0, 0, 0, time.UTC),
	time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC),
	time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC),
}

// FuzzEditRoundTrip mutates valid promotion files, applies one grant,
// revoke or regrant to one customer (listed or new), and checks that
//   - the result re-loads, passes the schema, and decodes to exactly the
//     promotion the state rules call for (every other field and entry
//     unchanged);
//   - no byte outside the edited lines changed: every line of the original
//     except the is_applied line and the edited entry's state, granted_at
//     and revoked_at lines is still there, in order, and every edit
//     replaces bytes only on those lines.
//
// Inputs that do not parse or fail the schema are skipped: the editor only
// ever runs on a valid repo.
func FuzzEditRoundTrip(f *testing.F) {
	var seeds [][]byte
	for _, pattern := range []string{
		filepath.Join("testdata", "edit", "*.yaml"),
		filepath.Join("..", "..", "examples", "acme", "promotions", "*.yaml"),
	} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if src, err := os.ReadFile(file); err == nil {
				seeds = append(seeds, src)
				for _, name := range []string{"crlf", "bom+crlf"} {
					seeds = append(seeds, lineEndVariants(src)[name])
				}
			}
		}
	}
	for i, src := range seeds {
		for op := 0; op < 9; op++ {
			f.Add(src, uint8(op), uint8(i+op))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte, op, pick uint8) {
		if len(src) > 16<<10 {
			return
		}
		doc, diags := yamldoc.ParseDocument("p.yaml", src, promotions.DefaultLimits)
		if doc == nil || diags.HasErrors() || doc.Kind != promotions.KindPromotion || fuzzValidate(doc).HasErrors() {
			return
		}
		before := yamldoc.DecodePromotion(doc)
		at := editInstants[int(op/3)%len(editInstants)]
		verb := []string{"grant", "revoke", "regrant"}[op%3]
		id := "cus_fuzz_new"
		entry := -1
		if n := len(before.Grants.Customers); n > 0 && int(pick)%(n+1) < n {
			entry = int(pick) % (n + 1)
			id = before.Grants.Customers[entry].ID
			entry = firstEntry(before, id)
		}

		plan, err := applyflow.NewApply(&before, src, nil, at)
		if err != nil {
			t.Fatalf("NewApply on a valid promotion: %v", err)
		}
		switch verb {
		case "grant":
			err = plan.Grant([]string{id})
		case "revoke":
			err = plan.Revoke([]string{id})
		default:
			err = plan.Regrant([]string{id})
		}
		if err != nil || len(plan.Refused()) > 0 {
			return // refused or not editable (flow-style grants): nothing is written
		}
		out, edits, err := plan.Result()
		if err != nil {
			return
		}
		want, changed := expectedAfter(before, verb, id, at)
		if !changed {
			if !bytes.Equal(out, src) {
				t.Fatalf("%s %s changed nothing in the model but edited the file:\n%s", verb, id, out)
			}
			return
		}

		outDoc, outDiags := yamldoc.ParseDocument("p.yaml", out, promotions.DefaultLimits)
		if outDoc == nil || outDiags.HasErrors() {
			t.Fatalf("%s %s: the result does not parse: %v\n--- before\n%s\n--- after\n%s", verb, id, outDiags, src, out)
		}
		if sd := fuzzValidate(outDoc); sd.HasErrors() {
			t.Fatalf("%s %s: the result fails the schema: %v\n--- after\n%s", verb, id, sd, out)
		}
		got := yamldoc.DecodePromotion(outDoc)
		if !reflect.DeepEqual(normalized(got), normalized(want)) {
			t.Fatalf("%s %s at %s: decoded\n%+v\nwant\n%+v\n--- before\n%s\n--- after\n%s", verb, id, at.Format(time.RFC3339), got.Grants, want.Grants, src, out)
		}
		if !reflect.DeepEqual(withoutGrants(outDoc.Value), withoutGrants(doc.Value)) {
			t.Fatalf("%s %s: fields other than grants and is_applied changed:\n--- before\n%s\n--- after\n%s", verb, id, src, out)
		}

		editable := editableLines(doc, before, entry, verb)
		checkEditsStayOnLines(t, src, edits, editable)
		checkLinesKept(t, src, out, editable)
	})
}

func firstEntry(p promotions.Promotion, id string) int {
	for i, g := range p.Grants.Customers {
		if g.ID == id {
			return i
		}
	}
	return -1
}

// expectedAfter applies the state rules (docs/apply-flow.md, "Grant
// periods") of one command to one customer, without a customer directory
// (so no eligibility refusal): grant and regrant start a new period for an
// entry whose last period has ended, revoke ends an active period at the
// instant and empties a scheduled one; a customer without an entry is
// covered by grants.all when one of its periods holds the instant.
func expectedAfter(p promotions.Promotion, verb, id string, at time.Time) (promotions.Promotion, bool) {
	p.Grants.Customers = append([]promotions.CustomerGrant(nil), p.Grants.Customers...)
	all := p.Grants.All
	var allState promotions.EffectiveState
	if all != nil {
		allState = p.EffectiveAt(all.Periods(), at).State
	}
	i := firstEntry(p, id)
	var state promotions.EffectiveState
	if i >= 0 {
		state = p.EffectiveAt(p.Grants.Customers[i].Periods(), at).State
	}
	ended := state == promotions.EffectiveExpired || state == promotions.EffectiveRevoked
	changed := false
	switch verb {
	case "grant", "regrant":
		switch {
		case i >= 0 && ended:
			g := &p.Grants.Customers[i]
			g.Previous = append(append([]promotions.Period(nil), g.Previous...), promotions.Period{GrantedAt: g.GrantedAt, RevokedAt: g.RevokedAt})
			g.State, g.GrantedAt, g.RevokedAt = promotions.StateGranted, at, nil
			changed = true
		case i < 0 && allState != promotions.EffectiveActive && (verb == "grant" || allState == promotions.EffectiveExpired || allState == promotions.EffectiveRevoked):
			p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{ID: id, State: promotions.StateGranted, GrantedAt: at})
			changed = true
		}
		if changed && verb == "grant" {
			p.IsApplied = true
		}
	case "revoke":
		switch {
		case i >= 0 && state == promotions.EffectiveActive:
			p.Grants.Customers[i].State = promotions.StateRevoked
			p.Grants.Customers[i].RevokedAt = &at
			changed = true
		case i >= 0 && state == promotions.EffectiveScheduled:
			g := &p.Grants.Customers[i]
			g.State, g.RevokedAt = promotions.StateRevoked, &g.GrantedAt
			changed = true
		case i < 0 && allState == promotions.EffectiveActive:
			p.Grants.Customers = append(p.Grants.Customers, promotions.CustomerGrant{ID: id, State: promotions.StateRevoked, GrantedAt: all.GrantedAt, RevokedAt: &at})
			changed = true
		}
	}
	return p, changed
}

// normalized puts every instant in UTC, so that equal instants written
// with different offsets compare equal.
func normalized(p promotions.Promotion) promotions.Promotion {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	p.DeactivatedAt = utc(p.DeactivatedAt)
	p.Window.Start, p.Window.End = utc(p.Window.Start), utc(p.Window.End)
	if p.Grants.All != nil {
		all := *p.Grants.All
		all.GrantedAt, all.RevokedAt = all.GrantedAt.UTC(), utc(all.RevokedAt)
		p.Grants.All = &all
	}
	grants := make([]promotions.CustomerGrant, len(p.Grants.Customers))
	for i, g := range p.Grants.Customers {
		g.GrantedAt, g.RevokedAt = g.GrantedAt.UTC(), utc(g.RevokedAt)
		var previous []promotions.Period
		for _, per := range g.Previous {
			previous = append(previous, promotions.Period{GrantedAt: per.GrantedAt.UTC(), RevokedAt: utc(per.RevokedAt)})
		}
		g.Previous = previous
		grants[i] = g
	}
	p.Grants.Customers = grants
	return p
}

func withoutGrants(v map[string]any) map[string]any {
	out := make(map[string]any, len(v))
	for k, x := range v {
		if k != "grants" && k != "is_applied" {
			out[k] = x
		}
	}
	return out
}

// editableLines are the 1-based lines an edit may rewrite: is_applied's,
// the edited entry's state, granted_at and revoked_at, and for a new entry
// the lines of grants and grants.customers (an empty flow list is opened).
func editableLines(doc *yamldoc.Document, p promotions.Promotion, entry int, verb string) map[int]bool {
	lines := map[int]bool{}
	mark := func(path promotions.Path) {
		lines[doc.KeyPosition(promotions.Diagnostic{Path: path}).Line] = true
		lines[doc.Position(promotions.Diagnostic{Path: path}).Line] = true
	}
	if _, ok := doc.Value["is_applied"]; ok {
		mark(promotions.P("is_applied"))
	}
	if entry >= 0 {
		for _, key := range []string{"state", "granted_at", "revoked_at"} {
			if key == "revoked_at" && p.Grants.Customers[entry].RevokedAt == nil {
				continue
			}
			mark(promotions.P("grants", "customers", entry, key))
		}
		return lines
	}
	if _, ok := doc.Value["grants"]; ok {
		mark(promotions.P("grants"))
		if g, _ := doc.Value["grants"].(map[string]any); g != nil {
			if _, ok := g["customers"]; ok {
				mark(promotions.P("grants", "customers"))
			}
		}
	}
	return lines
}

// checkEditsStayOnLines: a replacement or deletion only touches editable
// lines; an insertion is free (it changes no existing byte).
func checkEditsStayOnLines(t *testing.T, src []byte, edits []yamldoc.Edit, editable map[int]bool) {
	t.Helper()
	for _, e := range edits {
		if e.Start == e.End {
			continue
		}
		first := 1 + bytes.Count(src[:e.Start], []byte{'\n'})
		last := 1 + bytes.Count(src[:e.End-1], []byte{'\n'})
		for line := first; line <= last; line++ {
			// A deletion of whole lines ends with the newline of the
			// line before the next one; only the lines it removes count.
			if line == last && line > first && src[e.End-1] == '\n' && bytes.LastIndexByte(src[:e.End-1], '\n') < e.Start {
				continue
			}
			if !editable[line] {
				t.Fatalf("edit %q of bytes [%d,%d) touches line %d, which the command must not change\n%s", e.Text, e.Start, e.End, line, src)
			}
		}
	}
}

// checkLinesKept: every line outside the editable ones is in the result,
// byte for byte and in the same order. A CR is part of the line end, which
// an edit adds to a last line that had none.
func checkLinesKept(t *testing.T, src, out []byte, editable map[int]bool) {
	t.Helper()
	outLines := bytes.Split(out, []byte{'\n'})
	j := 0
	for i, line := range bytes.Split(src, []byte{'\n'}) {
		if editable[i+1] {
			continue
		}
		for j < len(outLines) && !bytes.Equal(bytes.TrimSuffix(outLines[j], []byte{'\r'}), bytes.TrimSuffix(line, []byte{'\r'})) {
			j++
		}
		if j == len(outLines) {
			t.Fatalf("line %d %q of the original is missing from the result or out of order\n--- before\n%s\n--- after\n%s", i+1, line, src, out)
		}
		j++
	}
}
