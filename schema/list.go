package schema

import (
	"encoding/json"

	"cuelang.org/go/cue"

	"github.com/promoctl/promoctl/promotions"
)

// Large lists (a Customers file of 10,000 entries, a promotion granted to
// 100,000 customers) are validated without handing every element to CUE:
// CUE costs tens of microseconds per element, most of it spent on values
// that each field checks on its own.
//
// validateList does the same checks in two cheaper parts. The value of each
// field whose constraint is not an enum (ids, names, emails, timestamps) is
// checked by a predicate compiled from that constraint; then the element's
// "skeleton" — the element with those values replaced by one valid value of
// the same field — is checked by CUE as a whole, once per distinct skeleton
// (cached across the lists a Schema sees). An element whose value or
// skeleton fails is validated by CUE on its own, so every message names the
// real value and path. This is exact as long as the conditions inside an
// element definition (if state == "revoked" …) only read enum fields, which
// keep their real values in the skeleton; TestValidateListMatchesPlainValidation
// checks that on the embedded schema.

// minListForSkeletons is the length below which a list is validated element
// by element, where the bookkeeping would cost more than it saves.
const minListForSkeletons = 8

func (s *Schema) validateList(doc *promotions.Document, def cue.Value, list []any, listPath promotions.Path) promotions.Diagnostics {
	if len(list) < minListForSkeletons {
		return s.validateEach(doc, def, list, listPath, nil)
	}
	fields := s.fieldConstraints(def)
	defKey := def.Path().String()

	// Fields checked by predicate, and a valid representative of each.
	preds := map[string]predicate{}
	representative := map[string]string{}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			str, ok := v.(string)
			if !ok {
				continue
			}
			if _, done := representative[k]; done {
				continue
			}
			c, known := fields[k]
			if !known {
				continue
			}
			pred := s.predicate(def, k, c)
			if pred == nil || s.enum(def, k, c) {
				continue
			}
			if pred(str) {
				preds[k], representative[k] = pred, str
			}
		}
	}

	individual := map[int]bool{}
	groups := map[string][]int{}
	skeletons := map[string]map[string]any{}
	var order []string
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			individual[i] = true
			continue
		}
		skeleton := make(map[string]any, len(m))
		for k, v := range m {
			if str, ok := v.(string); ok && preds[k] != nil {
				if !preds[k](str) {
					individual[i] = true
					break
				}
				v = representative[k]
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
		k := string(key)
		if _, seen := groups[k]; !seen {
			skeletons[k] = skeleton
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}
	for _, k := range order {
		cacheKey := defKey + "\x00" + k
		ok, cached := s.skeletonOK[cacheKey]
		if !cached {
			ok = def.Unify(s.ctx.Encode(skeletons[k])).Validate(cue.Concrete(true), cue.All()) == nil
			s.skeletonOK[cacheKey] = ok
		}
		if !ok {
			for _, i := range groups[k] {
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

// enum reports, cached, whether a field of def is an enum.
func (s *Schema) enum(def cue.Value, field string, c cue.Value) bool {
	key := def.Path().String() + "." + field
	if e, ok := s.enums[key]; ok {
		return e
	}
	e := isEnum(c)
	s.enums[key] = e
	return e
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
