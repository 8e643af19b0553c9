package yamldoc

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/promoctl/promoctl/promotions"
)

// Verbatim is a scalar written as given: the text of a value that an edit
// moves, so that it keeps its spelling (and a comment about it stays true).
type Verbatim string

// Comment, as the Value of a flow item's Field (its Key is ignored), is
// written as a comment at the end of the item's line.
type Comment string

// FlowItems is a list value written one flow mapping per line,
// "- {granted_at: …, revoked_at: …}": the style of a grant's previous
// periods, which keeps a long history readable.
type FlowItems [][]Field

// AppendFlow adds items at the end of the block sequence at path, one flow
// mapping per line at the dash indentation of its last item. A missing
// sequence is created (at its place in the key order) in the same style.
func (e *Editor) AppendFlow(path promotions.Path, items ...[]Field) error {
	if len(items) == 0 {
		return nil
	}
	node, mv, depth := e.find(path)
	if depth < len(path) {
		return e.insertMissing(path, depth, node, mv, FlowItems(items))
	}
	seq, isSeq := unwrap(node).(*ast.SequenceNode)
	if !isSeq || seq.IsFlowStyle || len(seq.Values) == 0 {
		return e.flowError(path)
	}
	last := unwrap(seq.Values[len(seq.Values)-1])
	var line, col int
	if lm, ok := last.(*ast.MappingNode); ok && !lm.IsFlowStyle && len(lm.Values) > 0 {
		line, col = e.keyPos(lm.Values[0])
	} else {
		pos := last.GetToken().Position
		line, col = pos.Line, pos.Column
	}
	dash := bytes.LastIndexByte(e.line(line)[:col-1], '-')
	if dash < 0 {
		return fmt.Errorf("edit %s: cannot find the dash of %s's last item", e.file, path)
	}
	var b strings.Builder
	for _, item := range items {
		if err := writeFlowItem(&b, item, dash); err != nil {
			return fmt.Errorf("edit %s: %w", e.file, err)
		}
	}
	return e.insertAt(e.entryEnd(line, dash, false), b.String())
}

// writeFlowItem writes "- {k: v, k: v}" with its dash at column dash.
func writeFlowItem(b *strings.Builder, item []Field, dash int) error {
	b.WriteString(strings.Repeat(" ", dash) + "- {")
	var comments []string
	i := 0
	for _, f := range item {
		if c, ok := f.Value.(Comment); ok {
			comments = append(comments, strings.ReplaceAll(string(c), "\n", " "))
			continue
		}
		k, err := formatScalar(f.Key, 0)
		if err != nil {
			return err
		}
		v, err := formatScalar(f.Value, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", f.Key, err)
		}
		if i > 0 {
			b.WriteString(", ")
		}
		i++
		b.WriteString(k + ": " + v)
	}
	b.WriteString("}")
	for _, c := range comments {
		b.WriteString("  # " + c)
	}
	b.WriteString("\n")
	return nil
}

// FlowList is a sequence of scalars written on one line ([starter,
// growth]), as eligibility lists are.
type FlowList []string

func writeFlowList(b *strings.Builder, pad, key string, items FlowList) error {
	parts := make([]string, len(items))
	for i, item := range items {
		s, err := formatScalar(item, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		parts[i] = s
	}
	b.WriteString(pad + key + ": [" + strings.Join(parts, ", ") + "]\n")
	return nil
}

// Replace writes value in place of the key at path and everything under it
// (a missing key is inserted, as Set does). It is how a nested value such
// as eligibility is rewritten as a whole: the entry's lines are replaced,
// comments elsewhere stay.
func (e *Editor) Replace(path promotions.Path, value any) error {
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
	line, col := e.keyPos(mv)
	indent := col - 1
	if strings.TrimSpace(string(e.line(line)[:indent])) != "" {
		return fmt.Errorf("edit %s: cannot replace %s: it shares its line with other content", e.file, path)
	}
	text, err := e.render(path[len(path)-1].Key, value, indent, 0)
	if err != nil {
		return err
	}
	return e.add(Edit{Start: e.lineStarts[line-1], End: e.entryEnd(line, indent, e.isBlockSeq(mv.Value)), Text: text})
}
