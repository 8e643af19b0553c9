package schema

import (
	"regexp"
	"strings"
	"time"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/format"
)

// A predicate is a Go rendering of a simple CUE constraint, used to check
// the hundreds of thousands of ids, names and timestamps of a large repo
// without a CUE evaluation each. It is derived from the embedded schema at
// compile time, so the .cue files stay the only place a rule is written;
// constraints it does not understand get no predicate and are left to CUE.
// A value a predicate rejects is validated by CUE again, so every message
// is still CUE's.
type predicate func(v any) bool

// compilePredicate derives a predicate from c, or reports false when c uses
// anything beyond kinds, literals, regular expressions, bounds, time.Time,
// references to those, and the error(...) branches of disjunctions.
func compilePredicate(c cue.Value) (predicate, bool) {
	return compileDepth(c, 0)
}

// isEnum reports whether c only admits a finite set of literals (besides
// error branches): the kind of field the conditions of a definition read.
func isEnum(c cue.Value) bool {
	return enumDepth(c, 0)
}

func enumDepth(c cue.Value, depth int) bool {
	if depth > 8 {
		return false
	}
	op, args := c.Expr()
	switch op {
	case cue.OrOp:
		literals := 0
		for _, a := range args {
			if isErrorCall(a) {
				continue
			}
			if !enumDepth(a, depth+1) {
				return false
			}
			literals++
		}
		return literals > 0
	case cue.SelectorOp:
		if d := cue.Dereference(c); d != c {
			return enumDepth(d, depth+1)
		}
		return false
	case cue.NoOp:
		return c.IsConcrete()
	}
	return false
}

func compileDepth(c cue.Value, depth int) (predicate, bool) {
	if depth > 8 {
		return nil, false
	}
	op, args := c.Expr()
	switch op {
	case cue.OrOp:
		var alts []predicate
		for _, a := range args {
			if isErrorCall(a) {
				continue // error(...) only supplies the message
			}
			p, ok := compileDepth(a, depth+1)
			if !ok {
				return nil, false
			}
			alts = append(alts, p)
		}
		if len(alts) == 0 {
			return nil, false
		}
		return func(v any) bool {
			for _, p := range alts {
				if p(v) {
					return true
				}
			}
			return false
		}, true
	case cue.AndOp:
		var all []predicate
		for _, a := range args {
			p, ok := compileDepth(a, depth+1)
			if !ok {
				return nil, false
			}
			all = append(all, p)
		}
		return func(v any) bool {
			for _, p := range all {
				if !p(v) {
					return false
				}
			}
			return true
		}, true
	case cue.RegexMatchOp:
		if len(args) != 1 {
			return nil, false
		}
		pattern, err := args[0].String()
		if err != nil {
			return nil, false
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return nil, false
		}
		return func(v any) bool {
			s, ok := v.(string)
			return ok && re.MatchString(s)
		}, true
	case cue.GreaterThanEqualOp, cue.GreaterThanOp, cue.LessThanEqualOp, cue.LessThanOp:
		if len(args) != 1 {
			return nil, false
		}
		bound, err := args[0].Int64()
		if err != nil {
			return nil, false
		}
		return func(v any) bool {
			n, ok := asInt(v)
			if !ok {
				return false
			}
			switch op {
			case cue.GreaterThanEqualOp:
				return n >= bound
			case cue.GreaterThanOp:
				return n > bound
			case cue.LessThanEqualOp:
				return n <= bound
			default:
				return n < bound
			}
		}, true
	case cue.SelectorOp:
		if source(c) == "time.Time" {
			// pkg/time's Time: time.ParseInLocation(RFC3339Nano, s, UTC).
			return func(v any) bool {
				s, ok := v.(string)
				if !ok {
					return false
				}
				_, err := time.ParseInLocation(time.RFC3339Nano, s, time.UTC)
				return err == nil
			}, true
		}
		if d := cue.Dereference(c); d != c {
			return compileDepth(d, depth+1)
		}
		return nil, false
	case cue.NoOp:
		if c.IsConcrete() {
			return literal(c)
		}
		switch c.IncompleteKind() {
		case cue.StringKind:
			return func(v any) bool { _, ok := v.(string); return ok }, true
		case cue.IntKind:
			return func(v any) bool { _, ok := asInt(v); return ok }, true
		case cue.BoolKind:
			return func(v any) bool { _, ok := v.(bool); return ok }, true
		}
	}
	return nil, false
}

func literal(c cue.Value) (predicate, bool) {
	switch c.Kind() {
	case cue.StringKind:
		want, _ := c.String()
		return func(v any) bool { s, ok := v.(string); return ok && s == want }, true
	case cue.IntKind:
		want, err := c.Int64()
		if err != nil {
			return nil, false
		}
		return func(v any) bool { n, ok := asInt(v); return ok && n == want }, true
	case cue.BoolKind:
		want, _ := c.Bool()
		return func(v any) bool { b, ok := v.(bool); return ok && b == want }, true
	}
	return nil, false
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case uint64:
		if n <= 1<<63-1 {
			return int64(n), true
		}
	}
	return 0, false
}

func isErrorCall(c cue.Value) bool {
	op, _ := c.Expr()
	return op == cue.CallOp && strings.HasPrefix(source(c), "error(")
}

func source(c cue.Value) string {
	n := c.Source()
	if n == nil {
		return ""
	}
	b, err := format.Node(n)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
