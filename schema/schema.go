// Package schema owns the CUE definitions of every kind of config file and
// of the is_applied transition rule. The .cue files embedded here are the
// source of truth for each document's shape; the Go code compiles them,
// validates parsed documents against them, and maps CUE's errors back to
// YAML positions with readable messages.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/parser"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

//go:embed *.cue
var sources embed.FS

// Sources returns the embedded CUE files by name, for export and docs.
func Sources() map[string]string {
	out := map[string]string{}
	names, _ := fs.Glob(sources, "*.cue")
	for _, n := range names {
		b, _ := sources.ReadFile(n)
		out[n] = string(b)
	}
	return out
}

// Schema is the compiled set of definitions. A Schema owns its cue.Context,
// which only grows: make a new one per reload and per worker goroutine
// rather than sharing one for the life of a process.
type Schema struct {
	ctx    *cue.Context
	root   cue.Value
	defs   map[string]cue.Value
	lists  map[string]listSpec
	fields map[string]map[string]cue.Value
	enums  map[string]bool
	shapes map[string]*shape
	// skeletonOK caches CUE's verdict on list-element skeletons: the same
	// shapes recur across every promotion and customer file.
	skeletonOK map[string]bool
}

// listSpec names a list inside a kind that may grow large, and the
// definition of its elements.
type listSpec struct {
	path promotions.Path
	elem cue.Value
}

// addSource parses one CUE file into inst (what the deprecated
// Instance.AddFile did).
func addSource(inst *build.Instance, name string, src []byte, rewrite func(*ast.File) error) error {
	f, err := parser.ParseFile(name, src, parser.ParseComments)
	if err != nil {
		return err
	}
	if rewrite != nil {
		if err := rewrite(f); err != nil {
			return err
		}
	}
	if err := inst.AddSyntax(f); err != nil {
		return err
	}
	return nil
}

// buildEmbedded compiles the embedded .cue files, plus any extra sources
// given as name/content pairs, into ctx.
func buildEmbedded(ctx *cue.Context, extra ...[2]string) (cue.Value, error) {
	return buildRewritten(ctx, nil, extra...)
}

// buildRewritten is buildEmbedded with each embedded file's syntax passed
// through rewrite first.
func buildRewritten(ctx *cue.Context, rewrite func(*ast.File) error, extra ...[2]string) (cue.Value, error) {
	inst := build.NewContext().NewInstance("schema", nil)
	names, err := fs.Glob(sources, "*.cue")
	if err != nil {
		return cue.Value{}, fmt.Errorf("list embedded schema: %w", err)
	}
	sort.Strings(names)
	for _, n := range names {
		src, err := sources.ReadFile(n)
		if err != nil {
			return cue.Value{}, fmt.Errorf("read embedded %s: %w", n, err)
		}
		if err := addSource(inst, n, src, rewrite); err != nil {
			return cue.Value{}, fmt.Errorf("parse embedded %s: %w", n, err)
		}
	}
	for _, e := range extra {
		if err := addSource(inst, e[0], []byte(e[1]), nil); err != nil {
			return cue.Value{}, fmt.Errorf("parse %s: %w", e[0], err)
		}
	}
	root := ctx.BuildInstance(inst)
	if err := root.Err(); err != nil {
		return cue.Value{}, fmt.Errorf("compile embedded schema: %w", err)
	}
	return root, nil
}

// Compile builds the embedded schema into a fresh CUE context.
func Compile() (*Schema, error) {
	ctx := cuecontext.New()
	root, err := buildEmbedded(ctx)
	if err != nil {
		return nil, err
	}
	s := &Schema{ctx: ctx, root: root, defs: map[string]cue.Value{}, fields: map[string]map[string]cue.Value{}, enums: map[string]bool{}, shapes: map[string]*shape{}, skeletonOK: map[string]bool{}}
	for _, kind := range promotions.Kinds {
		def := root.LookupPath(cue.ParsePath("#" + kind))
		if !def.Exists() {
			return nil, fmt.Errorf("embedded schema has no #%s", kind)
		}
		s.defs[kind] = def
	}
	s.lists = map[string]listSpec{
		promotions.KindCustomers: {path: promotions.P("customers"), elem: root.LookupPath(cue.ParsePath("#Customer"))},
		promotions.KindPromotion: {path: promotions.P("grants", "customers"), elem: root.LookupPath(cue.ParsePath("#CustomerGrant"))},
	}
	for kind, l := range s.lists {
		if !l.elem.Exists() {
			return nil, fmt.Errorf("embedded schema has no element definition for the list of %s", kind)
		}
	}
	return s, nil
}

// MustCompile is Compile for the embedded schema, which is fixed at build
// time: a failure is a bug in promoctl, caught by its tests.
func MustCompile() *Schema {
	s, err := Compile()
	if err != nil {
		panic(err)
	}
	return s
}

// Validate checks one document against the definition of its kind. The
// returned diagnostics carry positions in the document's source.
func (s *Schema) Validate(doc *yamldoc.Document) promotions.Diagnostics {
	def, ok := s.defs[doc.Kind]
	if !ok {
		return promotions.Diagnostics{doc.Position(promotions.ErrorAt(promotions.CodeUnknownKind, doc.File, promotions.P("kind"), "unknown kind %q", doc.Kind))}
	}
	spec, hasList := s.lists[doc.Kind]
	if !hasList {
		return s.validateValue(doc, def, doc.Value, nil)
	}
	// The document without its big list, then the list on its own.
	outer, list := detachList(doc.Value, spec.path)
	diags := s.validateValue(doc, def, outer, nil)
	if list != nil {
		diags = append(diags, s.validateList(doc, spec.elem, list, spec.path)...)
	}
	return diags
}

// detachList returns a copy of value whose list at path is empty, and that
// list; the copy shares everything else with value.
func detachList(value map[string]any, path promotions.Path) (map[string]any, []any) {
	if len(path) == 0 {
		return value, nil
	}
	head := path[0].Key
	if len(path) == 1 {
		list, ok := value[head].([]any)
		if !ok {
			return value, nil
		}
		out := make(map[string]any, len(value))
		for k, v := range value {
			out[k] = v
		}
		out[head] = []any{}
		return out, list
	}
	inner, ok := value[head].(map[string]any)
	if !ok {
		return value, nil
	}
	innerOut, list := detachList(inner, path[1:])
	if list == nil {
		return value, nil
	}
	out := make(map[string]any, len(value))
	for k, v := range value {
		out[k] = v
	}
	out[head] = innerOut
	return out, list
}

func (s *Schema) validateValue(doc *yamldoc.Document, def cue.Value, value any, prefix promotions.Path) promotions.Diagnostics {
	v := s.ctx.Encode(value)
	if err := v.Err(); err != nil {
		return promotions.Diagnostics{doc.Position(promotions.ErrorAt(promotions.CodeSchema, doc.File, prefix, "cannot encode value: %v", err))}
	}
	err := def.Unify(v).Validate(cue.Concrete(true), cue.All())
	if err == nil {
		return nil
	}
	var out promotions.Diagnostics
	seen := map[string]bool{}
	for _, e := range cueerrors.Errors(err) {
		path := toPath(e.Path(), value, prefix)
		format, args := e.Msg()
		// A condition on a missing required field is reported at the
		// parent with the field's name in the message.
		if format == "required field missing: %s" && len(args) == 1 {
			path = path.Key(fmt.Sprint(args[0]))
			format, args = "field is required but not present", nil
		}
		actual, present := lookup(doc.Value, path)
		msg := describeError(path, actual, present, fmt.Sprintf(format, args...))
		key := path.String() + "\x00" + msg
		if seen[key] {
			continue
		}
		seen[key] = true
		d := promotions.ErrorAt(promotions.CodeSchema, doc.File, path, "%s", msg)
		if strings.Contains(msg, "unknown field") || strings.Contains(msg, " is only allowed ") {
			d = doc.KeyPosition(d)
		}
		out = append(out, doc.Position(d))
	}
	return out
}

// toPath turns CUE's selector strings into a document path, using the
// value tree to tell list indexes from map keys.
func toPath(sels []string, value any, prefix promotions.Path) promotions.Path {
	path := append(promotions.Path(nil), prefix...)
	cur := value
	for _, sel := range sels {
		if strings.HasPrefix(sel, "#") {
			continue // the definition itself
		}
		if list, ok := cur.([]any); ok {
			if i, err := strconv.Atoi(sel); err == nil {
				path = path.Index(i)
				if i < len(list) {
					cur = list[i]
				} else {
					cur = nil
				}
				continue
			}
		}
		sel = unquoteSelector(sel)
		path = path.Key(sel)
		if m, ok := cur.(map[string]any); ok {
			cur = m[sel]
		} else {
			cur = nil
		}
	}
	return path
}

func unquoteSelector(sel string) string {
	if strings.HasPrefix(sel, `"`) {
		if u, err := strconv.Unquote(sel); err == nil {
			return u
		}
	}
	return sel
}

// lookup returns the value at path in a document's value tree.
func lookup(root map[string]any, path promotions.Path) (any, bool) {
	var cur any = root
	for _, e := range path {
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[e.Key]
			if !ok || e.IsIndex {
				return nil, false
			}
			cur = v
		case []any:
			if !e.IsIndex || e.Index < 0 || e.Index >= len(c) {
				return nil, false
			}
			cur = c[e.Index]
		default:
			return nil, false
		}
	}
	return cur, true
}

// describeError turns CUE's message into one that names the field, the
// expected and the actual value.
func describeError(path promotions.Path, actual any, present bool, cueMsg string) string {
	field := path.String()
	if field == "" {
		field = "document"
	}
	switch {
	case strings.Contains(cueMsg, "field not allowed"):
		return fmt.Sprintf("unknown field %s", field)
	case strings.Contains(cueMsg, "field is required but not present"),
		strings.HasPrefix(cueMsg, "incomplete value"):
		return fmt.Sprintf("missing required field %s", field)
	case strings.HasPrefix(cueMsg, "is only allowed"):
		return fmt.Sprintf("%s %s", field, cueMsg)
	case !present:
		return fmt.Sprintf("%s: %s", field, cueMsg)
	case strings.HasPrefix(cueMsg, "is not one of"), strings.HasPrefix(cueMsg, "must "):
		return fmt.Sprintf("%s: %s %s", field, render(actual), cueMsg)
	case strings.Contains(cueMsg, "mismatched types"), strings.HasPrefix(cueMsg, "conflicting values"):
		return fmt.Sprintf("%s: %s has the wrong type (%s)", field, render(actual), cueMsg)
	default:
		return fmt.Sprintf("%s: %s", field, cueMsg)
	}
}

func render(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case nil:
		return "null"
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	default:
		return fmt.Sprint(v)
	}
}
