package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/promoctl/promoctl/promotions"
)

// Document is one parsed YAML file: its top-level mapping as plain Go values
// (map[string]any, []any, string, int64, uint64, float64, bool, nil) plus
// what is needed to point back into the source.
type Document struct {
	File   string // relative to the repo root, with forward slashes
	Source []byte
	Kind   string
	Value  map[string]any
	root   ast.Node
}

// ParseDocument parses one config file. Every problem found is returned as a
// diagnostic; the document is nil when the file cannot be used at all.
func ParseDocument(file string, src []byte, lim promotions.Limits) (*Document, promotions.Diagnostics) {
	if int64(len(src)) > lim.MaxFileBytes {
		return nil, promotions.Diagnostics{at(promotions.ErrorAt(promotions.CodeYAMLSyntax, file, nil,
			"file is %d bytes, more than the limit of %d bytes", len(src), lim.MaxFileBytes), 1, 1).Reaching(promotions.LimitFileBytes)}
	}
	// A BOM and CRLF line ends are read as editors show them: the
	// parsed text has neither, and its lines and columns are the file's.
	text := normalize(src).src
	if d, bad := checkText(file, text); bad {
		return nil, promotions.Diagnostics{d}
	}
	root, err := parseRoot(text)
	if err != nil {
		return nil, promotions.Diagnostics{syntaxDiagnostic(file, err)}
	}
	if root == nil {
		return nil, promotions.Diagnostics{at(promotions.ErrorAt(promotions.CodeUnknownKind, file, nil,
			"file holds no YAML document; expected a mapping with a top-level kind"), 1, 1)}
	}
	c := converter{file: file, lim: lim, anchors: map[string]ast.Node{}}
	value := c.convert(root, nil, 0)
	if c.stopped {
		return nil, c.diags
	}
	top, ok := value.(map[string]any)
	if !ok {
		line, col := nodePos(root)
		return nil, promotions.Diagnostics{at(promotions.ErrorAt(promotions.CodeUnknownKind, file, nil,
			"document is a %s; expected a mapping with a top-level kind", describe(value)), line, col)}
	}
	doc := &Document{File: file, Source: src, Value: top, root: root}
	// Duplicate keys leave a usable document (the first key wins), so the
	// rest of the file is still checked and its id still known.
	diags := c.diags
	kind, _ := top["kind"].(string)
	if !isKnownKind(kind) {
		d := promotions.ErrorAt(promotions.CodeUnknownKind, file, promotions.P("kind"), "kind %s is not one of %s", quoteValue(top["kind"]), strings.Join(promotions.Kinds, ", "))
		if _, present := top["kind"]; !present {
			d = promotions.ErrorAt(promotions.CodeUnknownKind, file, promotions.P("kind"), "missing kind; expected one of %s", strings.Join(promotions.Kinds, ", "))
		}
		return nil, append(diags, doc.Position(d))
	}
	doc.Kind = kind
	return doc, diags
}

// parseRoot parses src (normalized: no BOM, LF line ends) and returns the
// body of its single document, or nil for an empty file.
func parseRoot(src []byte) (ast.Node, error) {
	root, tokens, ok := parseBlock(src)
	if ok {
		return root, nil
	}
	if tokens == nil {
		tokens = lexer.Tokenize(string(src))
	}
	return parseTokens(tokens)
}

// parseFull is parseRoot through goccy's full parser, for any YAML.
func parseFull(src []byte) (ast.Node, error) { return parseTokens(lexer.Tokenize(string(src))) }

// parseTokens parses lexed tokens with goccy's parser (the fast path only
// reads tokens, so a file it declines is not lexed twice).
func parseTokens(tokens token.Tokens) (ast.Node, error) {
	// Duplicate keys are detected while converting, where they can be
	// reported with their own code and every occurrence at once.
	f, err := parser.Parse(tokens, 0, parser.AllowDuplicateMapKey())
	if err != nil {
		return nil, err
	}
	var bodies []ast.Node
	for _, d := range f.Docs {
		if d == nil || d.Body == nil {
			continue
		}
		if _, directive := d.Body.(*ast.DirectiveNode); directive {
			continue // "%YAML 1.2" before "---" belongs to the document after it
		}
		bodies = append(bodies, d.Body)
	}
	switch len(bodies) {
	case 0:
		return nil, nil
	case 1:
		return bodies[0], nil
	default:
		line, col := nodePos(bodies[1])
		return nil, &positionedError{line: line, col: col, msg: fmt.Sprintf("file holds %d YAML documents; exactly one is allowed", len(bodies))}
	}
}

type positionedError struct {
	line, col int
	msg       string
}

func (e *positionedError) Error() string { return e.msg }

func syntaxDiagnostic(file string, err error) promotions.Diagnostic {
	var pe *positionedError
	if errors.As(err, &pe) {
		return at(promotions.ErrorAt(promotions.CodeYAMLSyntax, file, nil, "%s", pe.msg), pe.line, pe.col)
	}
	var ye yaml.Error
	if errors.As(err, &ye) {
		line, col := 1, 1
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			line, col = tk.Position.Line, tk.Position.Column
		}
		return at(promotions.ErrorAt(promotions.CodeYAMLSyntax, file, nil, "%s", ye.GetMessage()), line, col)
	}
	return at(promotions.ErrorAt(promotions.CodeYAMLSyntax, file, nil, "%v", err), 1, 1)
}

// checkText rejects what is not UTF-8 text before the parser sees it.
func checkText(file string, src []byte) (promotions.Diagnostic, bool) {
	if i := bytes.IndexByte(src, 0); i >= 0 {
		line, col := offsetPos(src, i)
		return at(promotions.ErrorAt(promotions.CodeYAMLSyntax, file, nil, "NUL byte at offset %d; config files must be UTF-8 text", i), line, col), true
	}
	if !utf8.Valid(src) {
		i := 0
		for i < len(src) {
			r, size := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		line, col := offsetPos(src, i)
		return at(promotions.ErrorAt(promotions.CodeYAMLSyntax, file, nil, "invalid UTF-8 byte 0x%02x at offset %d; config files must be UTF-8 text", src[i], i), line, col), true
	}
	return promotions.Diagnostic{}, false
}

func offsetPos(src []byte, off int) (line, col int) {
	line = 1 + bytes.Count(src[:off], []byte{'\n'})
	col = off - bytes.LastIndexByte(src[:off], '\n')
	return line, col
}

// leadingZeroInt matches an integer YAML readers disagree on: 0755 is 493
// to a YAML 1.1 reader (goccy's) and 755 to a YAML 1.2 one.
var leadingZeroInt = regexp.MustCompile(`^[-+]?0[0-9_]+$`)

func isKnownKind(k string) bool { return slices.Contains(promotions.Kinds, k) }

// Position fills in d's line and column from its path in this document.
func (doc *Document) Position(d promotions.Diagnostic) promotions.Diagnostic {
	return doc.position(d, false)
}

// KeyPosition is Position, but points at the key of the path's last
// element rather than its value: right for a field that should not exist.
func (doc *Document) KeyPosition(d promotions.Diagnostic) promotions.Diagnostic {
	return doc.position(d, true)
}

func (doc *Document) position(d promotions.Diagnostic, key bool) promotions.Diagnostic {
	if d.Line > 0 {
		return d
	}
	if doc.root == nil {
		if root, err := parseRoot(normalize(doc.Source).src); err == nil {
			doc.root = root
		}
	}
	d.Line, d.Column = locate(doc.root, d.Path, key)
	return d
}

// Release drops the syntax tree; Position re-parses the source on demand.
// Keeping only source bytes keeps a large repo's memory small.
func (doc *Document) Release() { doc.root = nil }

// converter turns a goccy AST into plain Go values, enforcing limits and
// reporting duplicate keys.
type converter struct {
	file       string
	lim        promotions.Limits
	anchors    map[string]ast.Node
	aliasNodes int
	inAlias    int
	alias      ast.Node // the outermost alias being expanded
	diags      promotions.Diagnostics
	stopped    bool // a limit or syntax problem made the document unusable
}

func (c *converter) fail(code promotions.Code, n ast.Node, path promotions.Path, format string, args ...any) {
	line, col := nodePos(n)
	c.diags = append(c.diags, at(promotions.ErrorAt(code, c.file, path, format, args...), line, col))
	if code != promotions.CodeDuplicateKey {
		c.stopped = true
	}
}

func (c *converter) convert(n ast.Node, path promotions.Path, depth int) any {
	if c.stopped {
		return nil
	}
	if depth > c.lim.MaxDepth {
		c.fail(promotions.CodeYAMLSyntax, n, path, "nesting deeper than %d levels", c.lim.MaxDepth)
		c.diags[len(c.diags)-1].Limit = promotions.LimitDepth
		return nil
	}
	if c.inAlias > 0 {
		c.aliasNodes++
		if c.aliasNodes > c.lim.MaxAliasNodes {
			// Point at the alias being expanded, not into its anchor's
			// value: the alias is what the author has to remove.
			c.fail(promotions.CodeYAMLSyntax, c.alias, path, "aliases expand to more than %d nodes", c.lim.MaxAliasNodes)
			c.diags[len(c.diags)-1].Limit = promotions.LimitAliasNodes
			return nil
		}
	}
	switch n := n.(type) {
	case nil:
		return nil
	case *ast.NullNode:
		return nil
	case *ast.StringNode:
		return n.Value
	case *ast.LiteralNode:
		return n.Value.Value
	case *ast.IntegerNode:
		if text := n.GetToken().Value; leadingZeroInt.MatchString(text) {
			c.fail(promotions.CodeYAMLSyntax, n, path, "integer %s has a leading zero: YAML 1.1 reads it as octal (%v), YAML 1.2 as decimal; write it without the leading zero, or quote it for a string", text, n.Value)
			return nil
		}
		return n.Value
	case *ast.FloatNode:
		return n.Value
	case *ast.BoolNode:
		return n.Value
	case *ast.InfinityNode:
		return n.Value
	case *ast.NanNode:
		return n.GetValue()
	case *ast.TagNode:
		if n.Start != nil && n.Start.Value == "!!str" {
			if s, ok := n.Value.(ast.ScalarNode); ok {
				return fmt.Sprint(s.GetValue())
			}
		}
		return c.convert(n.Value, path, depth)
	case *ast.AnchorNode:
		if n.Name != nil {
			c.anchors[n.Name.GetToken().Value] = n.Value
		}
		return c.convert(n.Value, path, depth)
	case *ast.AliasNode:
		name := ""
		if n.Value != nil {
			name = n.Value.GetToken().Value
		}
		target, ok := c.anchors[name]
		if !ok {
			c.fail(promotions.CodeYAMLSyntax, n, path, "alias *%s names no anchor defined before it", name)
			return nil
		}
		if c.inAlias == 0 {
			c.alias = n
		}
		c.inAlias++
		defer func() { c.inAlias-- }()
		return c.convert(target, path, depth)
	case *ast.MappingNode:
		return c.mapping(n.Values, path, depth)
	case *ast.MappingValueNode:
		return c.mapping([]*ast.MappingValueNode{n}, path, depth)
	case *ast.SequenceNode:
		list := make([]any, 0, len(n.Values))
		for i, v := range n.Values {
			list = append(list, c.convert(v, path.Index(i), depth+1))
		}
		return list
	case *ast.MergeKeyNode:
		c.fail(promotions.CodeYAMLSyntax, n, path, "merge keys (<<) are not supported")
		return nil
	default:
		c.fail(promotions.CodeYAMLSyntax, n, path, "unsupported YAML node %s", n.Type())
		return nil
	}
}

func (c *converter) mapping(values []*ast.MappingValueNode, path promotions.Path, depth int) map[string]any {
	m := make(map[string]any, len(values))
	seen := make(map[string]ast.Node, len(values))
	for _, mv := range values {
		if _, merge := mv.Key.(*ast.MergeKeyNode); merge {
			c.fail(promotions.CodeYAMLSyntax, mv.Key, path, "merge keys (<<) are not supported")
			continue
		}
		key := keyString(mv.Key)
		if first, dup := seen[key]; dup {
			line, _ := nodePos(first)
			c.fail(promotions.CodeDuplicateKey, mv.Key, path.Key(key), "key %q is already defined at line %d", key, line)
			continue
		}
		seen[key] = mv.Key
		m[key] = c.convert(mv.Value, path.Key(key), depth+1)
	}
	return m
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value // nearly every key: no formatting needed
	}
	if s, ok := k.(ast.ScalarNode); ok {
		if v := s.GetValue(); v != nil {
			return fmt.Sprint(v)
		}
	}
	return k.GetToken().Value
}

func nodePos(n ast.Node) (line, col int) {
	if n == nil {
		return 1, 1
	}
	if mv, ok := n.(*ast.MappingValueNode); ok {
		return nodePos(mv.Key)
	}
	if m, ok := n.(*ast.MappingNode); ok && len(m.Values) > 0 {
		return nodePos(m.Values[0].Key)
	}
	if s, ok := n.(*ast.SequenceNode); ok && s.Start != nil && s.Start.Position != nil {
		return s.Start.Position.Line, s.Start.Position.Column
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Line, tk.Position.Column
	}
	return 1, 1
}

// locate returns the position of path's node in root: the value when it is
// there, its key when the value is empty, and the enclosing mapping's key
// when the field is missing.
func locate(root ast.Node, path promotions.Path, key bool) (line, col int) {
	line, col = nodePos(root)
	n := root
	for i, elem := range path {
		n = unwrap(n)
		switch cur := n.(type) {
		case *ast.MappingNode, *ast.MappingValueNode:
			mv := findKey(cur, elem.Key)
			if elem.IsIndex || mv == nil {
				return line, col
			}
			if key && i == len(path)-1 {
				return nodePos(mv.Key)
			}
			if _, empty := unwrap(mv.Value).(*ast.NullNode); empty || mv.Value == nil {
				return nodePos(mv.Key)
			}
			n = mv.Value
			switch unwrap(n).(type) {
			case *ast.MappingNode:
				line, col = nodePos(mv.Key)
			case *ast.SequenceNode:
				// A missing item further down points at the list's key;
				// the list itself, when it is the offending value, at its
				// first token.
				line, col = nodePos(mv.Key)
				if i == len(path)-1 {
					line, col = nodePos(n)
				}
			default:
				line, col = nodePos(n)
			}
		case *ast.SequenceNode:
			if !elem.IsIndex || elem.Index < 0 || elem.Index >= len(cur.Values) {
				return line, col
			}
			n = cur.Values[elem.Index]
			line, col = nodePos(n)
		default:
			return line, col
		}
	}
	return line, col
}

func unwrap(n ast.Node) ast.Node {
	for {
		switch v := n.(type) {
		case *ast.AnchorNode:
			n = v.Value
		case *ast.TagNode:
			n = v.Value
		default:
			return n
		}
	}
}

func findKey(n ast.Node, key string) *ast.MappingValueNode {
	var values []*ast.MappingValueNode
	switch m := n.(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	}
	for _, mv := range values {
		if keyString(mv.Key) == key {
			return mv
		}
	}
	return nil
}

func describe(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case nil:
		return "null"
	default:
		return "scalar"
	}
}

func quoteValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case nil:
		return "null"
	default:
		return fmt.Sprint(v)
	}
}

func at(d promotions.Diagnostic, line, col int) promotions.Diagnostic { return d.At(line, col) }
