package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/token"
	"cuelang.org/go/encoding/jsonschema"
)

// documentUnion names the union of every kind, the root of the exported
// JSON Schema. It only refers to the embedded definitions.
const documentUnion = "package schema\n\n#Document: #Feature | #Plan | #Customers | #PromotionalEntitlement\n"

// JSONSchema generates a JSON Schema (draft 2020-12) for config files from
// the embedded CUE definitions, for editors (yaml-language-server, VS
// Code). CUE stays the source of truth.
//
// CUE's generator gives up on a definition that holds a comprehension,
// and the schemas use comprehensions for fields that depend on another
// field's value (`if feature_type == "metered" { metered!: #Metered }`).
// So the export takes those clauses out of the syntax before generating
// (declaring each field they constrain as optional, so that the closed
// object still allows it) and adds each one back as JSON Schema's own
// conditional: `if` the field has the value, `then` (or, for !=, `else`)
// the clause's fields are required or, for error(...) fields, forbidden
// with the error's text as description.
func JSONSchema() ([]byte, error) {
	ctx := cuecontext.New()
	conds := map[string]*lifted{}
	root, err := buildRewritten(ctx, func(f *ast.File) error { return liftConditionals(f, conds) },
		[2]string{"document.cue", documentUnion})
	if err != nil {
		return nil, err
	}
	expr, err := jsonschema.Generate(root.LookupPath(cue.ParsePath("#Document")), nil)
	if err != nil {
		return nil, fmt.Errorf("generate JSON Schema: %w", err)
	}
	raw, err := ctx.BuildExpr(expr).MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode JSON Schema: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("decode generated JSON Schema: %w", err)
	}
	if err := addConditionals(doc, conds); err != nil {
		return nil, err
	}
	// CUE's time.Time is RFC 3339, which is JSON Schema's date-time; the
	// generator only says "string".
	if defs, ok := doc["$defs"].(map[string]any); ok {
		if t, ok := defs["Time"].(map[string]any); ok && t["type"] == "string" {
			t["format"] = "date-time"
		}
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode JSON Schema: %w", err)
	}
	return out.Bytes(), nil
}

// conditional is one `if field == "value" {…}` (or !=) clause of a
// definition.
type conditional struct {
	field, value string
	equal        bool
	required     []string
	forbidden    map[string]string // field → the error(...) text
}

// lifted is what liftConditionals took out of one definition. err is set,
// and the definition left as it was, when a clause has a shape the export
// does not translate; that fails the export only if the definition is part
// of the exported schema (#Transition, say, is not).
type lifted struct {
	conds []conditional
	err   error
}

// liftConditionals takes the if-clauses out of f's top-level definitions,
// records them in conds by definition name (without #), and declares the
// fields they constrain as optional in the definition.
func liftConditionals(f *ast.File, conds map[string]*lifted) error {
	for _, decl := range f.Decls {
		def, ok := decl.(*ast.Field)
		if !ok {
			continue
		}
		name, _, err := ast.LabelName(def.Label)
		if err != nil || len(name) < 2 || name[0] != '#' {
			continue
		}
		body, ok := def.Value.(*ast.StructLit)
		if !ok {
			continue
		}
		declared := map[string]bool{}
		var kept, added []ast.Decl
		var found []conditional
		for _, elt := range body.Elts {
			if fld, ok := elt.(*ast.Field); ok {
				if label, _, err := ast.LabelName(fld.Label); err == nil {
					declared[label] = true
				}
			}
		}
		for _, elt := range body.Elts {
			comp, ok := elt.(*ast.Comprehension)
			if !ok {
				kept = append(kept, elt)
				continue
			}
			c, fields, err := parseConditional(comp)
			if err != nil {
				conds[name[1:]] = &lifted{err: fmt.Errorf("export %s to JSON Schema: %w", name, err)}
				break
			}
			found = append(found, c)
			for _, fld := range fields {
				label, _, _ := ast.LabelName(fld.Label)
				if declared[label] {
					continue
				}
				declared[label] = true
				added = append(added, &ast.Field{Label: ast.NewIdent(label), Constraint: token.OPTION, Value: fld.Value})
			}
		}
		if l := conds[name[1:]]; l != nil && l.err != nil {
			continue
		}
		if len(found) > 0 {
			conds[name[1:]] = &lifted{conds: found}
			body.Elts = append(kept, added...)
		}
	}
	return nil
}

// parseConditional reads `if ident ==|!= "lit" { a!: X, b?: error("…") }`.
func parseConditional(comp *ast.Comprehension) (conditional, []*ast.Field, error) {
	var c conditional
	guard, ok := comp.Clauses[0].(*ast.IfClause)
	if !ok || len(comp.Clauses) != 1 {
		return c, nil, fmt.Errorf("only single if clauses are supported")
	}
	cmp, ok := guard.Condition.(*ast.BinaryExpr)
	if !ok || (cmp.Op != token.EQL && cmp.Op != token.NEQ) {
		return c, nil, fmt.Errorf("only field == \"value\" and != conditions are supported")
	}
	field, okField := cmp.X.(*ast.Ident)
	lit, okLit := cmp.Y.(*ast.BasicLit)
	if !okField || !okLit || lit.Kind != token.STRING {
		return c, nil, fmt.Errorf("only field == \"value\" and != conditions are supported")
	}
	value, err := strconv.Unquote(lit.Value)
	if err != nil {
		return c, nil, fmt.Errorf("condition on %s: %w", field.Name, err)
	}
	c = conditional{field: field.Name, value: value, equal: cmp.Op == token.EQL, forbidden: map[string]string{}}
	body, ok := comp.Value.(*ast.StructLit)
	if !ok {
		return c, nil, fmt.Errorf("if %s: the clause is not a struct", field.Name)
	}
	var fields []*ast.Field
	for _, elt := range body.Elts {
		fld, ok := elt.(*ast.Field)
		if !ok {
			return c, nil, fmt.Errorf("if %s: only fields are supported inside the clause", field.Name)
		}
		label, _, err := ast.LabelName(fld.Label)
		if err != nil {
			return c, nil, fmt.Errorf("if %s: %w", field.Name, err)
		}
		if msg, isError := errorCall(fld.Value); isError {
			c.forbidden[label] = msg
			continue
		}
		if fld.Constraint != token.NOT {
			return c, nil, fmt.Errorf("if %s: %s must be required (!) or error(...)", field.Name, label)
		}
		c.required = append(c.required, label)
		fields = append(fields, fld)
	}
	return c, fields, nil
}

func errorCall(e ast.Expr) (string, bool) {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	if fn, ok := call.Fun.(*ast.Ident); !ok || fn.Name != "error" || len(call.Args) != 1 {
		return "", false
	}
	lit, ok := call.Args[0].(*ast.BasicLit)
	if !ok {
		return "", false
	}
	msg, err := strconv.Unquote(lit.Value)
	return msg, err == nil
}

// addConditionals adds each definition's conditionals to its generated
// schema as allOf entries of if/then/else.
func addConditionals(doc map[string]any, conds map[string]*lifted) error {
	defs, _ := doc["$defs"].(map[string]any)
	for name, l := range conds {
		def, ok := defs[name].(map[string]any)
		if !ok {
			continue // not part of the exported schema
		}
		if l.err != nil {
			return l.err
		}
		props, _ := def["properties"].(map[string]any)
		if props == nil {
			return fmt.Errorf("export %s to JSON Schema: generated definition has no properties", name)
		}
		allOf, _ := def["allOf"].([]any)
		for _, c := range l.conds {
			cond := map[string]any{
				"properties": map[string]any{c.field: map[string]any{"const": c.value}},
				"required":   []any{c.field},
			}
			body := map[string]any{}
			if len(c.required) > 0 {
				req := make([]any, len(c.required))
				for i, r := range c.required {
					req[i] = r
				}
				body["required"] = req
			}
			if len(c.forbidden) > 0 {
				forbidden := map[string]any{}
				for field, msg := range c.forbidden {
					if _, known := props[field]; !known {
						return fmt.Errorf("export %s to JSON Schema: %s is forbidden by a condition but never declared", name, field)
					}
					forbidden[field] = map[string]any{"not": map[string]any{}, "description": field + " " + msg}
				}
				body["properties"] = forbidden
			}
			branch := "then"
			if !c.equal {
				branch = "else"
			}
			allOf = append(allOf, map[string]any{"if": cond, branch: body})
		}
		def["allOf"] = allOf
	}
	return nil
}
