package schema

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"cuelang.org/go/cue"
	cueerrors "cuelang.org/go/cue/errors"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// Leaf is one scalar or set of a document's value, flattened: Key is the
// dotted path used as a CUE label, Path the same path for positions, Value
// the canonical form compared by the lock and Raw what the file says.
type Leaf struct {
	Key   string
	Path  promotions.Path
	Value any
	Raw   any
}

// Flatten returns the leaves of the given top-level fields of a document's
// value, in key order. The canonical form makes equal meaning compare
// equal: timestamps become UTC instants, eligibility lists become sorted
// sets, and empty mappings (and an empty eligibility.plans, which
// restricts nothing) have no leaves, so they count as absent.
func Flatten(value map[string]any, fields []string) []Leaf {
	var leaves []Leaf
	for _, f := range fields {
		v, ok := value[f]
		if !ok {
			continue
		}
		flatten(&leaves, promotions.P(f), v)
	}
	sort.Slice(leaves, func(i, j int) bool { return leaves[i].Key < leaves[j].Key })
	return leaves
}

func flatten(out *[]Leaf, path promotions.Path, v any) {
	switch v := v.(type) {
	case nil:
		return
	case map[string]any:
		for _, k := range promotions.SortedKeys(v) {
			flatten(out, path.Key(k), v[k])
		}
		return
	case []any:
		if isSet(path) {
			set := canonicalSet(v)
			if len(set) == 0 && path.String() == "eligibility.plans" {
				return
			}
			*out = append(*out, Leaf{Key: leafKey(path), Path: path, Value: set, Raw: v})
			return
		}
	}
	*out = append(*out, Leaf{Key: leafKey(path), Path: path, Value: canonical(v), Raw: v})
}

// isSet reports whether order and repetition carry no meaning at path:
// eligibility lists are membership tests.
func isSet(path promotions.Path) bool {
	return len(path) >= 2 && path[0].Key == "eligibility" &&
		(path[1].Key == "plans" || path[1].Key == "attributes")
}

func canonicalSet(list []any) []any {
	seen := map[string]bool{}
	var keys []string
	for _, e := range list {
		s := fmt.Sprint(canonical(e))
		if !seen[s] {
			seen[s] = true
			keys = append(keys, s)
		}
	}
	sort.Strings(keys)
	out := make([]any, len(keys))
	for i, k := range keys {
		out[i] = k
	}
	return out
}

// canonical normalises a scalar: a timestamp becomes its UTC instant, so
// 2026-03-01T01:00:00+01:00 equals 2026-03-01T00:00:00Z.
func canonical(v any) any {
	switch v := v.(type) {
	case string:
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t.UTC().Format(time.RFC3339Nano)
		}
		return v
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = canonical(e)
		}
		return out
	default:
		return v
	}
}

// leafKey renders a path as a CUE label; list indexes never occur above a
// leaf of the locked fields, but are rendered unambiguously if they do.
func leafKey(path promotions.Path) string { return path.String() }

// LockedFields returns the fields an applied promotion must keep, as the
// transition schema lists them.
func (s *Schema) LockedFields() []string { return s.stringList("#LockedFields") }

// EditableFields returns the fields that may change on an applied
// promotion.
func (s *Schema) EditableFields() []string { return s.stringList("#EditableFields") }

func (s *Schema) stringList(def string) []string {
	var out []string
	// The embedded schema is fixed at build time; a decode failure is a
	// bug caught by the package's tests, and yields an empty list.
	_ = s.root.LookupPath(cue.ParsePath(def)).Decode(&out)
	return out
}

// CheckTransition applies the is_applied lock to one promotion: old is its
// version in the base, new its version in the head. When old is applied,
// every change to a locked field (LOCKED_FIELD) and a step back to
// is_applied false (APPLIED_UNLOCKED) is reported at its position in new.
func (s *Schema) CheckTransition(oldDoc, newDoc *yamldoc.Document) promotions.Diagnostics {
	locked := s.LockedFields()
	oldLeaves, newLeaves := Flatten(oldDoc.Value, locked), Flatten(newDoc.Value, locked)
	def := s.root.LookupPath(cue.ParsePath("#Transition"))
	t := def.
		FillPath(cue.ParsePath("old"), s.ctx.Encode(lockState(oldDoc.Value, oldLeaves))).
		FillPath(cue.ParsePath("new"), s.ctx.Encode(lockState(newDoc.Value, newLeaves)))
	err := t.Validate(cue.Concrete(true), cue.All())
	if err == nil {
		return nil
	}

	id, _ := oldDoc.Value["id"].(string)
	r := lockReporter{
		id:       id,
		old:      oldDoc,
		doc:      newDoc,
		editable: editablePhrase(s.EditableFields()),
		oldByKey: byKey(oldLeaves),
		newByKey: byKey(newLeaves),
	}
	seen := map[string]bool{}
	var failed []string
	for _, e := range cueerrors.Errors(err) {
		sels := e.Path()
		for len(sels) > 0 && strings.HasPrefix(sels[0], "#") {
			sels = sels[1:]
		}
		switch {
		case len(sels) == 2 && sels[0] == "lock" && sels[1] == "is_applied":
			if !seen["\x00is_applied"] {
				seen["\x00is_applied"] = true
				r.unlocked()
			}
		case len(sels) >= 3 && sels[0] == "lock" && sels[1] == "locked":
			key := unquoteSelector(sels[2])
			if !seen[key] {
				seen[key] = true
				failed = append(failed, key)
			}
		default:
			format, args := e.Msg()
			r.out = append(r.out, newDoc.Position(promotions.ErrorAt(promotions.CodeLockedField, newDoc.File, nil,
				"%s is applied and cannot be checked against the base: %s", id, fmt.Sprintf(format, args...))))
		}
	}
	r.locked(failed)
	return r.out
}

func lockState(value map[string]any, leaves []Leaf) map[string]any {
	locked := make(map[string]any, len(leaves))
	for _, l := range leaves {
		locked[l.Key] = l.Value
	}
	id, _ := value["id"].(string)
	applied, _ := value["is_applied"].(bool)
	return map[string]any{"id": id, "is_applied": applied, "locked": locked}
}

func byKey(leaves []Leaf) map[string]Leaf {
	m := make(map[string]Leaf, len(leaves))
	for _, l := range leaves {
		m[l.Key] = l
	}
	return m
}

// editablePhrase renders "name, description, status and grants";
// deactivated_at is left out as it only ever changes with status.
func editablePhrase(fields []string) string {
	var shown []string
	for _, f := range fields {
		if f != "deactivated_at" {
			shown = append(shown, f)
		}
	}
	switch len(shown) {
	case 0:
		return "nothing"
	case 1:
		return shown[0]
	}
	return strings.Join(shown[:len(shown)-1], ", ") + " and " + shown[len(shown)-1]
}

type lockReporter struct {
	id                 string
	old, doc           *yamldoc.Document
	editable           string
	oldByKey, newByKey map[string]Leaf
	out                promotions.Diagnostics
}

func (r *lockReporter) unlocked() {
	found := "absent"
	if v, ok := r.doc.Value["is_applied"]; ok {
		found = RenderValue(v)
	}
	r.out = append(r.out, r.doc.Position(promotions.ErrorAt(promotions.CodeAppliedUnlocked, r.doc.File, promotions.P("is_applied"),
		"%s is applied in the base, so is_applied must stay true (found %s); deactivate it instead", r.id, found)))
}

// locked reports the failed leaves. When a whole top-level field was
// added or removed, it is reported once, at that field, rather than once
// per leaf.
func (r *lockReporter) locked(keys []string) {
	sort.Strings(keys)
	byField := map[string][]string{}
	var fields []string
	for _, k := range keys {
		f := r.topField(k)
		if _, ok := byField[f]; !ok {
			fields = append(fields, f)
		}
		byField[f] = append(byField[f], k)
	}
	for _, f := range fields {
		if side, whole := r.wholeField(f, byField[f]); whole {
			var base, head string
			if side == "base" {
				base, head = RenderValue(r.old.Value[f]), "absent"
			} else {
				base, head = "absent", RenderValue(r.doc.Value[f])
			}
			r.add(promotions.P(f), f, base, head)
			continue
		}
		for _, k := range byField[f] {
			o, inOld := r.oldByKey[k]
			n, inNew := r.newByKey[k]
			base, head := "absent", "absent"
			path := o.Path
			if inOld {
				base = RenderValue(o.Raw)
			}
			if inNew {
				head, path = RenderValue(n.Raw), n.Path
			}
			r.add(path, k, base, head)
		}
	}
}

func (r *lockReporter) add(path promotions.Path, field, base, head string) {
	r.out = append(r.out, r.doc.Position(promotions.ErrorAt(promotions.CodeLockedField, r.doc.File, path,
		"%s is locked because %s is applied (base %s, head %s); only %s may change", field, r.id, base, head, r.editable)))
}

func (r *lockReporter) topField(key string) string {
	if l, ok := r.newByKey[key]; ok {
		return l.Path[0].Key
	}
	if l, ok := r.oldByKey[key]; ok {
		return l.Path[0].Key
	}
	return key
}

// wholeField reports whether every leaf of field exists on one side only
// ("base" or "head") and all of them failed.
func (r *lockReporter) wholeField(field string, failed []string) (string, bool) {
	count := func(m map[string]Leaf) int {
		n := 0
		for _, l := range m {
			if l.Path[0].Key == field {
				n++
			}
		}
		return n
	}
	inOld, inNew := count(r.oldByKey), count(r.newByKey)
	switch {
	case inNew == 0 && inOld > 0 && inOld == len(failed):
		return "base", true
	case inOld == 0 && inNew > 0 && inNew == len(failed):
		return "head", true
	}
	return "", false
}

// RenderValue prints a document value compactly for messages: scalars as
// written, lists and mappings in YAML flow style with sorted keys.
func RenderValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		if v == "" || strings.ContainsAny(v, ",[]{}#\"") || strings.Contains(v, ": ") || strings.TrimSpace(v) != v {
			return strconv.Quote(v)
		}
		return v
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = RenderValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := promotions.SortedKeys(v)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + ": " + RenderValue(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	default:
		return fmt.Sprint(v)
	}
}
