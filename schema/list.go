package schema

import (
	"encoding/json"
	"sort"

	"cuelang.org/go/cue"

	"github.com/promoctl/promoctl/promotions"
)

// Large lists (a Customers file of 10,000 entries, a promotion granted to
// 100,000 customers) are validated without handing every element to CUE:
// CUE costs tens of microseconds per element, most of it spent on values
// that repeat or that each field checks on its own.
//
// validateList does the same checks in two cheaper parts. Each distinct
// value of a high-cardinality string field (ids, names, emails, timestamps)
// is checked once against that field's constraint; then the element's
// "skeleton" — the element with those values replaced by one valid value of
// the same field — is checked as a whole, once per distinct skeleton. An
// element whose value or skeleton fails is validated on its own, so every
// message names the real value and path. This is exact as long as the
// conditions inside an element definition (if state == "revoked" …) only
// read low-cardinality fields such as enums, which keep their real values
// in the skeleton; TestValidateListMatchesPlainValidation checks that.

// highCardinality is the number of distinct values above which a field is
// checked value by value rather than kept in the skeleton.
const highCardinality = 64

// minListForSkeletons is the length below which a list is validated element
// by element, where the bookkeeping would cost more than it saves.
const minListForSkeletons = 256

func (s *Schema) validateList(doc *promotions.Document, def cue.Value, list []any, listPath promotions.Path) promotions.Diagnostics {
	if len(list) < minListForSkeletons {
		return s.validateEach(doc, def, list, listPath, nil)
	}
	fields := s.fieldConstraints(def)

	// Distinct string values per field.
	distinct := map[string]map[string]bool{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			str, ok := v.(string)
			if _, known := fields[k]; !ok || !known {
				continue
			}
			if distinct[k] == nil {
				distinct[k] = map[string]bool{}
			}
			if len(distinct[k]) <= highCardinality || !distinct[k][str] {
				distinct[k][str] = true
			}
		}
	}
	// Check each distinct value of the high-cardinality fields with the
	// field's predicate, and pick a valid representative for the skeletons.
	// A field without a predicate keeps its values in the skeleton.
	invalid := map[string]map[string]bool{}
	representative := map[string]string{}
	for k, values := range distinct {
		pred := s.predicate(def, k, fields[k])
		if len(values) <= highCardinality || pred == nil {
			continue
		}
		keys := make([]string, 0, len(values))
		for v := range values {
			keys = append(keys, v)
		}
		sort.Strings(keys) // deterministic representative
		bad := map[string]bool{}
		for _, v := range keys {
			if !pred(v) {
				bad[v] = true
			} else if _, ok := representative[k]; !ok {
				representative[k] = v
			}
		}
		if _, ok := representative[k]; ok {
			invalid[k] = bad
		}
	}

	// Group elements by skeleton; elements with an invalid value are
	// validated individually.
	type group struct {
		skeleton map[string]any
		members  []int
	}
	groups := map[string]*group{}
	var order []string
	individual := map[int]bool{}
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			individual[i] = true
			continue
		}
		skeleton := make(map[string]any, len(m))
		for k, v := range m {
			if str, ok := v.(string); ok && invalid[k] != nil {
				if invalid[k][str] {
					individual[i] = true
				}
				if r, ok := representative[k]; ok {
					v = r
				}
			}
			skeleton[k] = v
		}
		if individual[i] {
			continue
		}
		key, err := json.Marshal(skeleton)
		if err != nil {
			individual[i] = true
			continue
		}
		g, ok := groups[string(key)]
		if !ok {
			g = &group{skeleton: skeleton}
			groups[string(key)] = g
			order = append(order, string(key))
		}
		g.members = append(g.members, i)
	}
	for _, key := range order {
		g := groups[key]
		if def.Unify(s.ctx.Encode(g.skeleton)).Validate(cue.Concrete(true), cue.All()) != nil {
			for _, i := range g.members {
				individual[i] = true
			}
		}
	}
	return s.validateEach(doc, def, list, listPath, individual)
}

// validateEach validates the elements of list one by one: all of them when
// only is nil, else those in only.
func (s *Schema) validateEach(doc *promotions.Document, def cue.Value, list []any, listPath promotions.Path, only map[int]bool) promotions.Diagnostics {
	var out promotions.Diagnostics
	for i, elem := range list {
		if only != nil && !only[i] {
			continue
		}
		out = append(out, s.validateValue(doc, def, elem, listPath.Index(i))...)
	}
	return out
}

// fieldConstraints returns the constraint of each regular, optional or
// required field of a struct definition, cached per definition.
func (s *Schema) fieldConstraints(def cue.Value) map[string]cue.Value {
	key := def.Path().String()
	if c, ok := s.fields[key]; ok {
		return c
	}
	out := map[string]cue.Value{}
	it, err := def.Fields(cue.Optional(true))
	if err == nil {
		for it.Next() {
			out[it.Selector().Unquoted()] = it.Value()
		}
	}
	s.fields[key] = out
	return out
}

// predicate returns the cached predicate of a field of def, or nil.
func (s *Schema) predicate(def cue.Value, field string, c cue.Value) predicate {
	key := def.Path().String() + "." + field
	if p, ok := s.predicates[key]; ok {
		return p
	}
	p, _ := compilePredicate(c)
	s.predicates[key] = p
	return p
}
