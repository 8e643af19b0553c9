package yamldoc

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/promoctl/promoctl/promotions"
)

// Edit replaces Source[Start:End] with Text; Start == End inserts.
type Edit struct {
	Start, End int
	Text       string
}

// Field is one key of a mapping to insert. Value is a scalar (string,
// bool, int, int64, time.Time), a nested mapping ([]Field) or a block
// sequence of mappings ([][]Field).
type Field struct {
	Key   string
	Value any
}

// Editor plans comment-preserving edits of one promotion document.
//
// Every method records byte-range edits against the original source, found
// through the syntax tree but written as text: a scalar keeps its quoting
// style, a new key lands next to its neighbours in the key order of docs/rules.md with the
// mapping's indentation, a new list item copies its sibling's layout. Apply
// splices all edits in one pass and re-parses the result, so every line no
// edit touches keeps its bytes — comments, blank lines, key order, quoting.
//
// Edits of one Editor must not overlap; methods return an error rather than
// produce a file that says something else than was asked.
type Editor struct {
	file       string
	text       plainText // the file as parsed; edits are planned on text.src
	src        []byte    // text.src
	lineStarts []int     // offset of each line's first byte
	root       ast.Node
	unit       int // indentation step of the document
	edits      []Edit
	created    map[string]bool
}

// NewEditor parses src (the content of file) for editing.
//
// A file with a BOM or CRLF line ends is edited as its LF form and the
// edits mapped back: the BOM and every untouched line end stay, and new
// lines are written with the file's line end.
func NewEditor(file string, orig []byte) (*Editor, error) {
	text := normalize(orig)
	src := text.src
	root, err := parseRoot(src)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", file, err)
	}
	if _, ok := unwrap(root).(*ast.MappingNode); !ok {
		if _, ok := unwrap(root).(*ast.MappingValueNode); !ok {
			return nil, fmt.Errorf("edit %s: the document is not a mapping", file)
		}
	}
	e := &Editor{file: file, text: text, src: src, root: unwrap(root), created: map[string]bool{}}
	e.lineStarts = append(e.lineStarts, 0)
	for i, c := range src {
		if c == '\n' && i+1 < len(src) {
			e.lineStarts = append(e.lineStarts, i+1)
		}
	}
	e.unit = e.detectIndent()
	return e, nil
}

// Edits returns the planned edits in source order, as offsets into the
// file's bytes given to NewEditor.
func (e *Editor) Edits() []Edit {
	out := append([]Edit(nil), e.edits...)
	sortEdits(out)
	return e.text.edits(out)
}

// Changed reports whether any edit was planned.
func (e *Editor) Changed() bool { return len(e.edits) > 0 }

// Apply returns the edited document and checks that it still parses as one
// YAML document.
func (e *Editor) Apply() ([]byte, error) {
	out, err := e.Render()
	if err != nil {
		return nil, err
	}
	if doc, diags := ParseDocument(e.file, out, promotions.DefaultLimits); doc == nil {
		return nil, fmt.Errorf("edit %s produced a document that does not parse: %s", e.file, diags[0].Message)
	}
	return out, nil
}

// Render returns the edited document without re-parsing it, for callers
// that parse the result anyway (the apply-flow commands validate the whole
// repo with it before writing); parsing a large file twice would double
// the cost of a bulk grant.
func (e *Editor) Render() ([]byte, error) {
	out, err := ApplyEdits(e.text.orig, e.Edits())
	if err != nil {
		return nil, fmt.Errorf("edit %s: %w", e.file, err)
	}
	return out, nil
}

// ApplyEdits splices edits (offsets into src) into a copy of src. Edits at
// the same offset apply in the order given; overlapping edits are an error.
func ApplyEdits(src []byte, edits []Edit) ([]byte, error) {
	sorted := append([]Edit(nil), edits...)
	sortEdits(sorted)
	grow := 0
	for i, ed := range sorted {
		if ed.Start < 0 || ed.End < ed.Start || ed.End > len(src) {
			return nil, fmt.Errorf("edit [%d,%d) is outside the %d-byte source", ed.Start, ed.End, len(src))
		}
		if i > 0 && ed.Start < sorted[i-1].End {
			return nil, fmt.Errorf("edits [%d,%d) and [%d,%d) overlap", sorted[i-1].Start, sorted[i-1].End, ed.Start, ed.End)
		}
		grow += len(ed.Text) - (ed.End - ed.Start)
	}
	out := make([]byte, 0, len(src)+grow)
	pos := 0
	for _, ed := range sorted {
		out = append(out, src[pos:ed.Start]...)
		out = append(out, ed.Text...)
		pos = ed.End
	}
	return append(out, src[pos:]...), nil
}

// sortEdits orders edits by start. At one offset, insertions come before a
// replacement; among insertions a missing final newline comes first, then
// deeper-indented text before shallower text — content that continues the
// node ending there (a key of the last list item) before what follows it (a
// new list item) — and otherwise the order the edits were made in.
func sortEdits(edits []Edit) {
	sort.SliceStable(edits, func(i, j int) bool {
		a, b := edits[i], edits[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		aIns, bIns := a.End == a.Start, b.End == b.Start
		if aIns != bIns {
			return aIns
		}
		return aIns && insertRank(a.Text) > insertRank(b.Text)
	})
}

func insertRank(text string) int {
	if text == "\n" || text == "\r\n" {
		return 1 << 30
	}
	return len(text) - len(strings.TrimLeft(text, " "))
}

// Has reports whether path names an existing node.
func (e *Editor) Has(path promotions.Path) bool {
	_, _, depth := e.find(path)
	return depth == len(path)
}

// Set gives the key at path a scalar value. An existing scalar is replaced
// in place, keeping its quoting style; a missing key is inserted (with any
// missing parent mappings) at its place in the key order of docs/rules.md.
func (e *Editor) Set(path promotions.Path, value any) error {
	node, mv, depth, flow := e.walk(path)
	if depth == len(path) {
		if mv == nil {
			return fmt.Errorf("edit %s: %s is not a mapping key", e.file, path)
		}
		if flow {
			return e.flowError(path)
		}
		return e.replaceScalar(path, mv, node, value, true)
	}
	return e.insertMissing(path, depth, node, mv, value)
}

// Rewrite is Set for a value that takes another's place rather than
// corrects its spelling (a grant's new granted_at): a comment at the end of
// the line spoke of the old value, so it goes with it.
func (e *Editor) Rewrite(path promotions.Path, value any) error {
	node, mv, depth, flow := e.walk(path)
	if depth < len(path) {
		return e.insertMissing(path, depth, node, mv, value)
	}
	if mv == nil {
		return fmt.Errorf("edit %s: %s is not a mapping key", e.file, path)
	}
	if flow {
		return e.flowError(path)
	}
	return e.replaceScalar(path, mv, node, value, false)
}

// Written returns the scalar at path as the file writes it — its text and
// the comment at the end of its line (without the '#'), so that an edit
// that moves the value elsewhere can keep both. ok is false when there is
// no one-line scalar at path.
func (e *Editor) Written(path promotions.Path) (text, comment string, ok bool) {
	node, mv, depth, flow := e.walk(path)
	if depth < len(path) || mv == nil || flow {
		return "", "", false
	}
	switch unwrap(node).(type) {
	case *ast.MappingNode, *ast.SequenceNode, *ast.LiteralNode:
		return "", "", false
	}
	start, ok := e.scalarStart(mv)
	if !ok || e.continuesOnNextLine(mv) {
		return "", "", false
	}
	end, err := e.scalarEnd(start)
	if err != nil {
		return "", "", false
	}
	line, _ := e.keyPos(mv)
	rest := bytes.TrimSpace(e.src[end:e.lineEndOffset(line)])
	if len(rest) > 0 && rest[0] == '#' {
		comment = strings.TrimSpace(string(rest[1:]))
	}
	return string(e.src[start:end]), comment, true
}

// Remove deletes the key at path with its value, line by line. A missing
// key is no error.
func (e *Editor) Remove(path promotions.Path) error {
	_, mv, depth, flow := e.walk(path)
	if depth < len(path) {
		return nil
	}
	if mv == nil {
		return fmt.Errorf("edit %s: %s is not a mapping key", e.file, path)
	}
	if flow {
		return e.flowError(path)
	}
	line, col := e.keyPos(mv)
	text := e.line(line)
	indent := col - 1
	if strings.TrimSpace(string(text[:indent])) != "" {
		return fmt.Errorf("edit %s: cannot remove %s: it shares its line with other content", e.file, path)
	}
	return e.add(Edit{Start: e.lineStarts[line-1], End: e.entryEnd(line, indent, e.isBlockSeq(mv.Value))})
}

// Append adds mappings at the end of the block sequence at path, laid out
// like its last item (indentation, quoting per key). A missing or empty
// sequence is created with the document's indentation.
func (e *Editor) Append(path promotions.Path, items ...[]Field) error {
	if len(items) == 0 {
		return nil
	}
	node, mv, depth := e.find(path)
	if depth < len(path) {
		return e.insertMissing(path, depth, node, mv, items)
	}
	if mv == nil {
		return fmt.Errorf("edit %s: %s is not a mapping key", e.file, path)
	}
	seq, isSeq := unwrap(node).(*ast.SequenceNode)
	if isSeq && !seq.IsFlowStyle && len(seq.Values) > 0 {
		last := seq.Values[len(seq.Values)-1]
		lm, ok := unwrap(last).(*ast.MappingNode)
		if !ok || lm.IsFlowStyle || len(lm.Values) == 0 {
			return fmt.Errorf("edit %s: the items of %s are not block mappings", e.file, path)
		}
		line, col := e.keyPos(lm.Values[0])
		content := col - 1
		dash := bytes.LastIndexByte(e.line(line)[:content], '-')
		if dash < 0 {
			return fmt.Errorf("edit %s: cannot find the dash of %s's last item", e.file, path)
		}
		styles := map[string]byte{}
		for _, kv := range lm.Values {
			if start, ok := e.scalarStart(kv); ok {
				styles[keyString(kv.Key)] = quoteStyle(e.src[start])
			}
		}
		var b strings.Builder
		for _, item := range items {
			if err := writeItem(&b, item, dash, content, styles); err != nil {
				return fmt.Errorf("edit %s: %w", e.file, err)
			}
		}
		return e.insertAt(e.entryEnd(line, dash, false), b.String())
	}
	keyLine, keyCol := e.keyPos(mv)
	if err := e.openEmpty(path, mv); err != nil {
		return err
	}
	var b strings.Builder
	dash := keyCol - 1 + e.unit
	for _, item := range items {
		if err := writeItem(&b, item, dash, dash+2, nil); err != nil {
			return fmt.Errorf("edit %s: %w", e.file, err)
		}
	}
	return e.insertAt(e.lineEndOffset(keyLine), b.String())
}

// find walks path from the root. It returns the node at path and the
// mapping entry holding it when the whole path exists; otherwise the
// deepest existing node, its entry, and how many path elements exist.
func (e *Editor) find(path promotions.Path) (ast.Node, *ast.MappingValueNode, int) {
	n, mv, depth, _ := e.walk(path)
	return n, mv, depth
}

// walk is find that also reports whether the path runs through a flow
// collection, whose scalars end at , ] } and are not edited here.
func (e *Editor) walk(path promotions.Path) (ast.Node, *ast.MappingValueNode, int, bool) {
	var n ast.Node = e.root
	var mv *ast.MappingValueNode
	flow := false
	for i, el := range path {
		cur := unwrap(n)
		switch c := cur.(type) {
		case *ast.MappingNode:
			flow = flow || c.IsFlowStyle
		case *ast.SequenceNode:
			flow = flow || c.IsFlowStyle
		}
		if el.IsIndex {
			seq, ok := cur.(*ast.SequenceNode)
			if !ok || el.Index < 0 || el.Index >= len(seq.Values) {
				return cur, mv, i, flow
			}
			n, mv = seq.Values[el.Index], nil
			continue
		}
		next := findKey(cur, el.Key)
		if next == nil {
			return cur, mv, i, flow
		}
		n, mv = next.Value, next
	}
	return n, mv, len(path), flow
}

// insertMissing inserts path[depth:] below the existing node container
// (held by entry mv, nil for the root), wrapping value in new mappings.
func (e *Editor) insertMissing(path promotions.Path, depth int, container ast.Node, mv *ast.MappingValueNode, value any) error {
	for _, el := range path[depth:] {
		if el.IsIndex {
			return fmt.Errorf("edit %s: %s does not exist", e.file, path[:depth+1])
		}
	}
	for j := len(path) - 1; j > depth; j-- {
		value = []Field{{Key: path[j].Key, Value: value}}
	}
	parent, key := path[:depth], path[depth].Key
	id := parent.Key(key).String()
	if e.created[id] {
		return fmt.Errorf("edit %s: %s is created twice", e.file, id)
	}
	e.created[id] = true

	values, block := mappingEntries(container)
	if !block || len(values) == 0 {
		if mv == nil {
			return fmt.Errorf("edit %s: the document is not a block mapping", e.file)
		}
		keyLine, keyCol := e.keyPos(mv)
		if err := e.openEmpty(parent, mv); err != nil {
			return err
		}
		text, err := e.render(key, value, keyCol-1+e.unit, 0)
		if err != nil {
			return err
		}
		return e.insertAt(e.lineEndOffset(keyLine), text)
	}
	_, firstCol := e.keyPos(values[0])
	text, err := e.render(key, value, firstCol-1, e.siblingStyle(values))
	if err != nil {
		return err
	}
	return e.insertAt(e.keyInsertOffset(parent, key, values), text)
}

// keyInsertOffset finds where a new key goes among a mapping's entries:
// after the last entry that precedes it in the key order of docs/rules.md, else before the
// first one that follows it (above that entry's comments), else at the end.
func (e *Editor) keyInsertOffset(parent promotions.Path, key string, values []*ast.MappingValueNode) int {
	order := promotions.PromotionKeyOrder(parent)
	rank := func(k string) int {
		for i, o := range order {
			if o == k {
				return i
			}
		}
		return -1
	}
	want := rank(key)
	var after, before *ast.MappingValueNode
	for _, v := range values {
		r := rank(keyString(v.Key))
		switch {
		case r < 0:
		case r < want:
			after = v
		case r > want && before == nil:
			before = v
		}
	}
	if want < 0 || (after == nil && before == nil) {
		after = values[len(values)-1]
	}
	if after != nil {
		line, col := e.keyPos(after)
		return e.entryEnd(line, col-1, e.isBlockSeq(after.Value))
	}
	line, _ := e.keyPos(before)
	for line > 1 && isCommentLine(e.line(line-1)) {
		line--
	}
	return e.lineStarts[line-1]
}

// replaceScalar rewrites the scalar value of mv; keepComment keeps a
// comment at the end of the line (at its column), else it is removed.
func (e *Editor) replaceScalar(path promotions.Path, mv *ast.MappingValueNode, node ast.Node, value any, keepComment bool) error {
	switch unwrap(node).(type) {
	case *ast.MappingNode, *ast.SequenceNode, *ast.LiteralNode:
		return fmt.Errorf("edit %s: %s is not a one-line scalar", e.file, path)
	}
	colon := e.colonOffset(mv)
	start, ok := e.scalarStart(mv)
	if !ok {
		if _, null := unwrap(node).(*ast.NullNode); !null {
			// "state:" with "granted" on the line below: writing the new
			// value after the colon would leave the old one under it.
			return fmt.Errorf("edit %s: %s: its value is written on the line below its key; promoctl edits values written on the key's line: move it up first", e.file, path)
		}
		text, err := formatScalar(value, 0)
		if err != nil {
			return fmt.Errorf("edit %s: %s: %w", e.file, path, err)
		}
		return e.add(Edit{Start: colon + 1, End: colon + 1, Text: " " + text})
	}
	end, err := e.scalarEnd(start)
	if err != nil {
		return fmt.Errorf("edit %s: %s: %w", e.file, path, err)
	}
	if e.continuesOnNextLine(mv) {
		// The value goes on below ("name: SSO for" + "  Growth
		// customers"): replacing its first line would keep the rest and
		// write another value than was asked.
		return fmt.Errorf("edit %s: %s: its value is written over several lines (a multi-line plain scalar); promoctl edits one-line values only: write it on one line first", e.file, path)
	}
	text, err := formatScalar(value, quoteStyle(e.src[start]))
	if err != nil {
		return fmt.Errorf("edit %s: %s: %w", e.file, path, err)
	}
	pad := end
	for pad < len(e.src) && e.src[pad] == ' ' {
		pad++
	}
	hasComment := pad > end && pad < len(e.src) && e.src[pad] == '#'
	if !keepComment && hasComment {
		line, _ := e.keyPos(mv)
		stop := e.lineEndOffset(line)
		for stop > pad && (e.src[stop-1] == '\n' || e.src[stop-1] == '\r') {
			stop--
		}
		return e.add(Edit{Start: start, End: stop, Text: text})
	}
	if text == string(e.src[start:end]) {
		return nil
	}
	// A trailing comment keeps its column: the padding before it absorbs
	// the change in length, down to one space.
	if hasComment {
		spaces := max(1, pad-start-len(text))
		return e.add(Edit{Start: start, End: pad, Text: text + strings.Repeat(" ", spaces)})
	}
	return e.add(Edit{Start: start, End: end, Text: text})
}

// openEmpty prepares the entry mv, whose value is empty (null, [] or {}),
// to receive block content on the following lines: the empty value text is
// deleted so that only the key and any comment stay on the line.
func (e *Editor) openEmpty(path promotions.Path, mv *ast.MappingValueNode) error {
	colon := e.colonOffset(mv)
	line, _ := e.keyPos(mv)
	end := e.lineEndOffset(line)
	rest := string(e.src[colon+1 : end])
	value := strings.TrimSpace(rest)
	if i := strings.Index(value, " #"); i >= 0 {
		value = strings.TrimSpace(value[:i])
	} else if strings.HasPrefix(value, "#") {
		value = ""
	}
	switch value {
	case "", "~", "null", "Null", "NULL", "[]", "{}":
	default:
		return e.flowError(path)
	}
	if value == "" {
		return nil
	}
	at := colon + 1 + strings.Index(rest, value)
	return e.add(Edit{Start: colon + 1, End: at + len(value)})
}

func (e *Editor) flowError(path promotions.Path) error {
	return fmt.Errorf("edit %s: %s is written in flow style ({...} or [...]); promoctl edits block style only: rewrite it as an indented block", e.file, path)
}

func (e *Editor) add(ed Edit) error {
	e.edits = append(e.edits, ed)
	return nil
}

// insertAt inserts text, which ends with a newline, at a line start. At
// the end of a file without a final newline, the newline is added once.
func (e *Editor) insertAt(off int, text string) error {
	if off == len(e.src) && off > 0 && e.src[off-1] != '\n' && !e.created["\n"] {
		e.created["\n"] = true
		e.edits = append(e.edits, Edit{Start: off, End: off, Text: "\n"})
	}
	return e.add(Edit{Start: off, End: off, Text: text})
}

// render writes key: value at indent, nested values indented by the
// document's step.
func (e *Editor) render(key string, value any, indent int, style byte) (string, error) {
	var b strings.Builder
	if _, scalar := value.(time.Time); scalar || isString(value) {
		k, err := formatScalar(key, 0)
		if err != nil {
			return "", fmt.Errorf("edit %s: %w", e.file, err)
		}
		v, err := formatScalar(value, style)
		if err != nil {
			return "", fmt.Errorf("edit %s: %w", e.file, err)
		}
		return strings.Repeat(" ", indent) + k + ": " + v + "\n", nil
	}
	if err := e.writeField(&b, key, value, indent); err != nil {
		return "", fmt.Errorf("edit %s: %w", e.file, err)
	}
	return b.String(), nil
}

func (e *Editor) writeField(b *strings.Builder, key string, value any, indent int) error {
	k, err := formatScalar(key, 0)
	if err != nil {
		return err
	}
	pad := strings.Repeat(" ", indent)
	switch v := value.(type) {
	case []Field:
		b.WriteString(pad + k + ":\n")
		for _, f := range v {
			if err := e.writeField(b, f.Key, f.Value, indent+e.unit); err != nil {
				return err
			}
		}
		return nil
	case FlowList:
		return writeFlowList(b, pad, k, v)
	case FlowItems:
		b.WriteString(pad + k + ":\n")
		for _, item := range v {
			if err := writeFlowItem(b, item, indent+e.unit); err != nil {
				return err
			}
		}
		return nil
	case [][]Field:
		b.WriteString(pad + k + ":\n")
		for _, item := range v {
			if err := writeItem(b, item, indent+e.unit, indent+e.unit+2, nil); err != nil {
				return err
			}
		}
		return nil
	}
	s, err := formatScalar(value, 0)
	if err != nil {
		return err
	}
	b.WriteString(pad + k + ": " + s + "\n")
	return nil
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}

// siblingStyle is the quoting shared by every scalar value of a mapping's
// entries, so that a new key is written like its neighbours; 0 (plain)
// when they differ.
func (e *Editor) siblingStyle(values []*ast.MappingValueNode) byte {
	style, seen := byte(0), false
	for _, mv := range values {
		start, ok := e.scalarStart(mv)
		if !ok {
			continue
		}
		switch unwrap(mv.Value).(type) {
		case *ast.MappingNode, *ast.SequenceNode, *ast.LiteralNode:
			continue
		}
		s := quoteStyle(e.src[start])
		if seen && s != style {
			return 0
		}
		style, seen = s, true
	}
	return style
}

// writeItem writes one sequence item of scalar fields, its dash at column
// dash and its keys at column content (0-based), quoting each value like
// the sibling's value of the same key.
func writeItem(b *strings.Builder, item []Field, dash, content int, styles map[string]byte) error {
	if content <= dash {
		content = dash + 2
	}
	for i, f := range item {
		k, err := formatScalar(f.Key, 0)
		if err != nil {
			return err
		}
		v, err := formatScalar(f.Value, styles[f.Key])
		if err != nil {
			return fmt.Errorf("%s: %w", f.Key, err)
		}
		if i == 0 {
			b.WriteString(strings.Repeat(" ", dash))
			b.WriteByte('-')
			b.WriteString(strings.Repeat(" ", content-dash-1))
		} else {
			b.WriteString(strings.Repeat(" ", content))
		}
		b.WriteString(k + ": " + v + "\n")
	}
	return nil
}

// --- positions and extents -------------------------------------------------

// line returns line n (1-based) without its newline.
func (e *Editor) line(n int) []byte {
	start := e.lineStarts[n-1]
	end := len(e.src)
	if n < len(e.lineStarts) {
		end = e.lineStarts[n] - 1
	}
	return bytes.TrimSuffix(e.src[start:end], []byte("\r"))
}

// lineEndOffset is the offset just after line n's newline.
func (e *Editor) lineEndOffset(n int) int {
	if n < len(e.lineStarts) {
		return e.lineStarts[n]
	}
	return len(e.src)
}

// offset converts a 1-based line and rune column into a byte offset.
func (e *Editor) offset(line, col int) int {
	text := e.line(line)
	i := 0
	for c := 1; c < col && i < len(text); c++ {
		if text[i] < 0x80 {
			i++
			continue
		}
		_, size := utf8.DecodeRune(text[i:])
		i += size
	}
	return e.lineStarts[line-1] + i
}

func (e *Editor) keyPos(mv *ast.MappingValueNode) (line, col int) {
	return nodePos(mv.Key)
}

// colonOffset is the offset of the ':' after mv's key.
func (e *Editor) colonOffset(mv *ast.MappingValueNode) int {
	tk := mv.GetToken()
	return e.offset(tk.Position.Line, tk.Position.Column)
}

// scalarStart finds the first byte of mv's value when it is on the key's
// line; false when the value is empty there.
func (e *Editor) scalarStart(mv *ast.MappingValueNode) (int, bool) {
	colon := e.colonOffset(mv)
	line, _ := e.keyPos(mv)
	end := e.lineEndOffset(line)
	i := colon + 1
	for i < end && (e.src[i] == ' ' || e.src[i] == '\t') {
		i++
	}
	if i >= end || e.src[i] == '\n' || e.src[i] == '\r' || e.src[i] == '#' {
		return 0, false
	}
	return i, true
}

// continuesOnNextLine reports whether mv's scalar value, which starts on
// the key's line, goes on below: the next line that is neither blank nor a
// comment is indented deeper than the key, which YAML reads as the value's
// continuation.
func (e *Editor) continuesOnNextLine(mv *ast.MappingValueNode) bool {
	line, col := e.keyPos(mv)
	for n := line + 1; n <= len(e.lineStarts); n++ {
		text := e.line(n)
		trimmed := bytes.TrimLeft(text, " ")
		if len(bytes.TrimSpace(trimmed)) == 0 {
			continue
		}
		if trimmed[0] == '#' {
			return false
		}
		return len(text)-len(trimmed) > col-1
	}
	return false
}

// scalarEnd finds the end of the one-line scalar starting at start.
func (e *Editor) scalarEnd(start int) (int, error) {
	src := e.src
	switch src[start] {
	case '"':
		for i := start + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				i++
			case '"':
				return i + 1, nil
			case '\n':
				return 0, fmt.Errorf("multi-line quoted scalars are not edited")
			}
		}
	case '\'':
		for i := start + 1; i < len(src); i++ {
			switch {
			case src[i] == '\'' && i+1 < len(src) && src[i+1] == '\'':
				i++
			case src[i] == '\'':
				return i + 1, nil
			case src[i] == '\n':
				return 0, fmt.Errorf("multi-line quoted scalars are not edited")
			}
		}
	case '|', '>', '&', '*', '!', '[', '{':
		return 0, fmt.Errorf("only plain or quoted scalars are edited, found %q", src[start])
	default:
		end := start
		for end < len(src) && src[end] != '\n' {
			if src[end] == '#' && (src[end-1] == ' ' || src[end-1] == '\t') {
				break
			}
			end++
		}
		for end > start && (src[end-1] == ' ' || src[end-1] == '\t' || src[end-1] == '\r') {
			end--
		}
		return end, nil
	}
	return 0, fmt.Errorf("unterminated quoted scalar")
}

// entryEnd returns the offset after the last content line of the node that
// starts on line first at indentation indent: following lines belong to it
// while they are indented deeper (or, for a compact sequence, start with a
// dash at the same indentation). Comment and blank lines after the last
// content line belong to whatever follows.
func (e *Editor) entryEnd(first, indent int, compactSeq bool) int {
	last := first
	for n := first + 1; n <= len(e.lineStarts); n++ {
		text := e.line(n)
		trimmed := bytes.TrimLeft(text, " ")
		if len(bytes.TrimSpace(trimmed)) == 0 || trimmed[0] == '#' {
			continue
		}
		ind := len(text) - len(trimmed)
		if ind > indent || (compactSeq && ind == indent && (len(trimmed) == 1 || trimmed[1] == ' ') && trimmed[0] == '-') {
			last = n
			continue
		}
		break
	}
	return e.lineEndOffset(last)
}

func (e *Editor) isBlockSeq(n ast.Node) bool {
	s, ok := unwrap(n).(*ast.SequenceNode)
	return ok && !s.IsFlowStyle
}

// detectIndent returns the indentation step of the first nested block
// mapping of the document, or 2.
func (e *Editor) detectIndent() int {
	values, _ := mappingEntries(e.root)
	for _, mv := range values {
		child, block := mappingEntries(unwrap(mv.Value))
		if !block || len(child) == 0 {
			continue
		}
		_, pc := e.keyPos(mv)
		_, cc := e.keyPos(child[0])
		if step := cc - pc; step > 0 && step <= 8 {
			return step
		}
	}
	return 2
}

func isCommentLine(text []byte) bool {
	t := bytes.TrimLeft(text, " \t")
	return len(t) > 0 && t[0] == '#'
}

// mappingEntries returns the entries of a block mapping; block is false for
// flow mappings, nulls and non-mappings.
func mappingEntries(n ast.Node) (values []*ast.MappingValueNode, block bool) {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values, !m.IsFlowStyle
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}, true
	}
	return nil, false
}

// --- scalars ---------------------------------------------------------------

func quoteStyle(first byte) byte {
	if first == '"' || first == '\'' {
		return first
	}
	return 0
}

// formatScalar renders a scalar value in the given quoting style (0 for
// plain); a string that would not read back as the same string in plain
// style is double-quoted.
func formatScalar(v any, style byte) (string, error) {
	var s string
	switch v := v.(type) {
	case Verbatim:
		return string(v), nil
	case string:
		s = v
	case time.Time:
		s = promotions.FormatTime(v)
		if style == 0 {
			return s, nil
		}
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	default:
		return "", fmt.Errorf("cannot write a %T as a YAML scalar", v)
	}
	switch {
	case style == '\'' && !strings.ContainsAny(s, "\n\r"):
		return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
	case style == '"' || !plainSafe(s):
		return strconv.Quote(s), nil
	}
	return s, nil
}

var (
	simplePlain = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.@/-]*$`)
	plainWords  = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
		"true": true, "false": true, "null": true}
)

// plainSafe reports whether s reads back as the string s when written
// unquoted as a mapping value, by any YAML reader.
func plainSafe(s string) bool {
	if s == "" || strings.ContainsAny(s, "\n\r\t") || strings.TrimSpace(s) != s {
		return false
	}
	if simplePlain.MatchString(s) {
		return !plainWords[strings.ToLower(s)]
	}
	if strings.ContainsRune("0123456789+-.", rune(s[0])) {
		// could read as a number or date in some YAML reader, if not this one
		return false
	}
	f, err := parser.ParseBytes([]byte("k: "+s+"\n"), 0)
	if err != nil || len(f.Docs) != 1 {
		return false
	}
	entries, _ := mappingEntries(unwrap(f.Docs[0].Body))
	if len(entries) != 1 {
		return false
	}
	str, ok := entries[0].Value.(*ast.StringNode)
	return ok && str.Value == s && !plainWords[strings.ToLower(s)]
}
