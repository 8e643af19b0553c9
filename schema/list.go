package schema

import (
	"fmt"
	"sort"
	"strconv"

	"cuelang.org/go/cue"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
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

func (s *Schema) validateList(doc *yamldoc.Document, def cue.Value, list []any, listPath promotions.Path) promotions.Diagnostics {
	if len(list) < minListForSkeletons {
		return s.validateEach(doc, def, list, listPath, nil)
	}
	defKey := def.Path().String()
	var enumFields []string
	for k, c := range s.fieldConstraints(defKey, def) {
		if s.enum(defKey, k, c) {
			enumFields = append(enumFields, k)
		}
	}
	sort.Strings(enumFields) // shape keys list them in this order
	var keyBuf []byte

	// Elements are grouped by skeleton. The skeleton's key is built
	// straight from the element, so that an element whose skeleton was
	// seen before allocates nothing: this loop runs 100,000 times for a
	// large grant list.
	individual := map[int]bool{}
	groupOf := map[string]int{}
	var (
		groups    [][]int
		skeletons []map[string]any
		keys      []string
		values    []any // the skeleton's value of each key
		skelBuf   []byte
	)
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			individual[i] = true
			continue
		}
		var shape *shape
		shape, keyBuf = s.shapeOf(def, defKey, enumFields, m, keyBuf)
		keys = keys[:0]
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		values = values[:0]
		skelBuf = append(skelBuf[:0], '{')
		for _, k := range keys {
			v := m[k]
			if str, ok := v.(string); ok {
				if f, ok := shape.fields[k]; ok {
					if !f.pred(str) {
						individual[i] = true
						break
					}
					if f.representative == "" {
						f.representative = str
						shape.fields[k] = f
					}
					v = f.representative
				}
			}
			values = append(values, v)
			skelBuf = appendString(skelBuf, k)
			skelBuf = append(skelBuf, ':')
			skelBuf = appendKey(skelBuf, v)
			skelBuf = append(skelBuf, ',')
		}
		if individual[i] {
			continue
		}
		skelBuf = append(skelBuf, '}') // as appendKey renders the skeleton map
		if g, seen := groupOf[string(skelBuf)]; seen {
			groups[g] = append(groups[g], i)
			continue
		}
		skeleton := make(map[string]any, len(keys))
		for j, k := range keys {
			skeleton[k] = values[j]
		}
		groupOf[string(skelBuf)] = len(groups)
		groups = append(groups, []int{i})
		skeletons = append(skeletons, skeleton)
	}
	for g, skeleton := range skeletons {
		cacheKey := defKey + "\x00" + string(appendKey(nil, skeleton))
		ok, cached := s.skeletonOK[cacheKey]
		if !cached {
			ok = def.Unify(s.ctx.Encode(skeleton)).Validate(cue.Concrete(true), cue.All()) == nil
			s.skeletonOK[cacheKey] = ok
		}
		if !ok {
			for _, i := range groups[g] {
				individual[i] = true
			}
		}
	}
	return s.validateEach(doc, def, list, listPath, individual)
}

// shape is what an element definition looks like once its enum fields are
// known: conditional fields (revoked_at when state is revoked) exist only
// then. fields holds the non-enum string fields that have a predicate, with
// the first valid value seen as the skeletons' representative.
type shape struct {
	fields map[string]shapeField
}

type shapeField struct {
	pred           predicate
	representative string
}

// shapeOf returns the shape of def for an element's enum values, cached.
// Representatives are per shape and per Schema, so equal skeletons from
// different lists share one CUE verdict. enumFields is sorted; buf is
// scratch space for the cache key, returned for reuse: this runs for
// every element of every large list, and a hit allocates nothing.
func (s *Schema) shapeOf(def cue.Value, defKey string, enumFields []string, m map[string]any, buf []byte) (*shape, []byte) {
	buf = append(append(buf[:0], defKey...), 0)
	for _, k := range enumFields {
		if v, ok := m[k]; ok {
			buf = appendString(buf, k)
			buf = append(buf, ':')
			buf = appendKey(buf, v)
			buf = append(buf, ',')
		}
	}
	if sh, ok := s.shapes[string(buf)]; ok {
		return sh, buf
	}
	key := string(buf)
	enums := make(map[string]any, len(enumFields))
	for _, k := range enumFields {
		if v, ok := m[k]; ok {
			enums[k] = v
		}
	}
	sh := &shape{fields: map[string]shapeField{}}
	resolved := def.Unify(s.ctx.Encode(enums))
	if resolved.Err() == nil {
		for k, c := range s.fieldConstraints(key, resolved) {
			if s.enum(key, k, c) {
				continue
			}
			if pred, ok := compilePredicate(c); ok {
				sh.fields[k] = shapeField{pred: pred}
			}
		}
	}
	s.shapes[key] = sh
	return sh, buf
}

// validateEach validates the elements of list one by one: all of them when
// only is nil, else those in only.
func (s *Schema) validateEach(doc *yamldoc.Document, def cue.Value, list []any, listPath promotions.Path, only map[int]bool) promotions.Diagnostics {
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
func (s *Schema) fieldConstraints(key string, def cue.Value) map[string]cue.Value {
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

// enum reports, cached, whether a field is an enum.
func (s *Schema) enum(defKey, field string, c cue.Value) bool {
	key := defKey + "." + field
	if e, ok := s.enums[key]; ok {
		return e
	}
	e := isEnum(c)
	s.enums[key] = e
	return e
}

// appendKey appends a canonical rendering of a decoded YAML value: equal
// values give equal keys. Strings are written length-prefixed rather than
// quoted, which keeps the rendering unambiguous at a fraction of the cost
// of escaping (it runs for every element of every large list).
func appendKey(buf []byte, v any) []byte {
	switch v := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		buf = append(buf, '{')
		for _, k := range keys {
			buf = appendString(buf, k)
			buf = append(buf, ':')
			buf = appendKey(buf, v[k])
			buf = append(buf, ',')
		}
		return append(buf, '}')
	case []any:
		buf = append(buf, '[')
		for _, e := range v {
			buf = appendKey(buf, e)
			buf = append(buf, ',')
		}
		return append(buf, ']')
	case string:
		return appendString(buf, v)
	case nil:
		return append(buf, "null"...)
	default:
		// Numbers and booleans: the type is part of the key, since "5"
		// and 5 differ to the schema.
		return fmt.Appendf(buf, "%T(%v)", v, v)
	}
}

func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	buf = strconv.AppendInt(buf, int64(len(s)), 10)
	buf = append(buf, '"')
	return append(buf, s...)
}
