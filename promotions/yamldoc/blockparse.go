package yamldoc

import (
	"bytes"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// parseBlock builds goccy's AST straight from goccy's tokens for the plain
// block subset that config files are written in: block mappings and
// sequences, one-line scalars, one-line flow collections, comments.
// Anything else (anchors, aliases, tags, literal and folded blocks,
// multi-line scalars, several documents, tabs, CR line ends, any irregular
// indentation) returns ok == false, with the tokens when it got that far,
// and the caller parses them with goccy's full parser, which is then also
// what reports syntax errors.
//
// Why: goccy's parser groups the tokens and records a path string for
// every node, which made it ~60% of the cost of loading a large repo
// (3 MB/s on a 100k-customer directory). Lexing is reused as it is, so
// values and positions come from the same tokens either way;
// FuzzBlockParseMatchesParser holds the two paths to the same values and
// positions.
func parseBlock(src []byte) (root ast.Node, all token.Tokens, ok bool) {
	if bytes.IndexByte(src, '\t') >= 0 || bytes.IndexByte(src, '\r') >= 0 {
		return nil, nil, false
	}
	all = lexer.Tokenize(string(src))
	toks := make([]*token.Token, 0, len(all))
	var header *token.Token
	for _, tk := range all {
		switch tk.Type {
		case token.CommentType:
			continue
		case token.DocumentHeaderType:
			if header == nil && len(toks) == 0 {
				header = tk // a leading "---" is common and changes nothing
				continue
			}
			return nil, all, false
		}
		toks = append(toks, tk)
	}
	p := blockParser{toks: toks}
	if len(toks) == 0 || !p.isKey(0) {
		return nil, all, false
	}
	if header != nil && line(toks[0]) == line(header) {
		return nil, all, false // "--- key: value": no block mapping on the header's line
	}
	root, ok = p.mapping(toks[0].Position.Column, 0)
	if !ok || p.i != len(toks) {
		return nil, all, false
	}
	return root, all, true
}

// maxBlockDepth bounds the builder's recursion; deeper files take goccy's
// parser, and the converter then applies Limits.MaxDepth.
const maxBlockDepth = 64

type blockParser struct {
	toks []*token.Token
	i    int
}

func (p *blockParser) at(i int) *token.Token {
	if i < len(p.toks) {
		return p.toks[i]
	}
	return nil
}

func line(tk *token.Token) int   { return tk.Position.Line }
func column(tk *token.Token) int { return tk.Position.Column }

// isKey reports whether toks[i] is a one-line scalar followed by ':' on
// the same line.
func (p *blockParser) isKey(i int) bool {
	tk, colon := p.at(i), p.at(i+1)
	return tk != nil && colon != nil && colon.Type == token.MappingValueType &&
		line(colon) == line(tk) && isScalar(tk)
}

// endsLine reports whether the token before i is the last one of its line.
func (p *blockParser) endsLine(i int) bool {
	next := p.at(i)
	return next == nil || line(next) > line(p.toks[i-1])
}

// mapping reads a block mapping whose keys sit at col, starting at the
// current token, which is a key (possibly right after a "- ").
func (p *blockParser) mapping(col, depth int) (ast.Node, bool) {
	if depth > maxBlockDepth {
		return nil, false
	}
	m := ast.Mapping(p.toks[p.i], false)
	for {
		if !p.isKey(p.i) {
			return nil, false
		}
		keyTk, colon := p.toks[p.i], p.toks[p.i+1]
		key, isKey := scalar(keyTk).(ast.MapKeyNode)
		if !isKey {
			return nil, false
		}
		p.i += 2
		value, ok := p.value(colon, col, depth)
		if !ok {
			return nil, false
		}
		m.Values = append(m.Values, ast.MappingValue(colon, key, value))
		switch next, after := p.after(col); {
		case after == collectionEnds:
			return m, true
		case after == irregular || next.Type == token.SequenceEntryType:
			// A list at the key's column ends here only when it is
			// this mapping's value, which value() already consumed.
			return nil, false
		}
	}
}

// following says what comes after an entry of a block collection whose
// entries sit at a column.
type following int

const (
	nextEntry      following = iota // a token at the column, first on its line
	collectionEnds                  // the end, or a token further left
	irregular                       // further right, or not first on its line
)

func (p *blockParser) after(col int) (*token.Token, following) {
	next := p.at(p.i)
	switch {
	case next == nil || column(next) < col:
		return next, collectionEnds
	case column(next) > col || !p.endsLine(p.i):
		return next, irregular
	}
	return next, nextEntry
}

// value reads the value of the key whose ':' is colon.
func (p *blockParser) value(colon *token.Token, col, depth int) (ast.Node, bool) {
	tk := p.at(p.i)
	if tk == nil || line(tk) > line(colon) && (column(tk) < col || column(tk) == col && tk.Type != token.SequenceEntryType) {
		return nullAfter(colon), true
	}
	if line(tk) == line(colon) {
		return p.inline(depth)
	}
	switch {
	case tk.Type == token.SequenceEntryType:
		return p.sequence(column(tk), depth+1)
	case column(tk) > col && p.isKey(p.i):
		return p.mapping(column(tk), depth+1)
	}
	return nil, false
}

// inline reads a value that starts on the line of its key or "- ": a
// scalar or a one-line flow collection, which must end that line.
func (p *blockParser) inline(depth int) (ast.Node, bool) {
	if p.isKey(p.i) {
		return nil, false // "a: b: c"
	}
	node, ok := p.flow(line(p.toks[p.i]), depth)
	if !ok {
		return nil, false
	}
	return node, p.endsLine(p.i)
}

// flow reads a scalar, "[a, b]" or "{k: v, k: [a]}", all on line ln.
func (p *blockParser) flow(ln, depth int) (ast.Node, bool) {
	tk := p.at(p.i)
	if tk == nil || line(tk) != ln || depth > maxBlockDepth {
		return nil, false
	}
	switch tk.Type {
	case token.SequenceStartType:
		seq := ast.Sequence(tk, true)
		end, ok := p.flowItems(token.SequenceEndType, ln, func() bool {
			if p.isKey(p.i) {
				return false // a single-pair mapping inside [ ]
			}
			item, ok := p.flow(ln, depth+1)
			seq.Values = append(seq.Values, item)
			return ok
		})
		seq.End = end
		return seq, ok
	case token.MappingStartType:
		m := ast.Mapping(tk, true)
		end, ok := p.flowItems(token.MappingEndType, ln, func() bool {
			if !p.isKey(p.i) {
				return false
			}
			key, isKey := scalar(p.toks[p.i]).(ast.MapKeyNode)
			colon := p.toks[p.i+1]
			p.i += 2
			if next := p.at(p.i); !isKey || next == nil || next.Type == token.CollectEntryType || next.Type == token.MappingEndType {
				return false // "{a: }" and the like
			}
			value, ok := p.flow(ln, depth+1)
			m.Values = append(m.Values, ast.MappingValue(colon, key, value))
			return ok
		})
		m.End = end
		return m, ok
	}
	node := scalar(tk)
	if node == nil {
		return nil, false
	}
	p.i++
	return node, true
}

// flowItems reads the items of a flow collection up to its closing token:
// item reads one, separators are commas, a trailing comma is fine.
func (p *blockParser) flowItems(closing token.Type, ln int, item func() bool) (*token.Token, bool) {
	p.i++ // the opening bracket
	for {
		tk := p.at(p.i)
		if tk == nil || line(tk) != ln {
			return nil, false
		}
		if tk.Type == closing {
			p.i++
			return tk, true
		}
		if !item() {
			return nil, false
		}
		switch sep := p.at(p.i); {
		case sep == nil:
			return nil, false
		case sep.Type == token.CollectEntryType:
			p.i++
		case sep.Type != closing:
			return nil, false
		}
	}
}

// sequence reads a block sequence whose "-" sit at col.
func (p *blockParser) sequence(col, depth int) (ast.Node, bool) {
	if depth > maxBlockDepth {
		return nil, false
	}
	seq := ast.Sequence(p.toks[p.i], false)
	for {
		dash := p.toks[p.i]
		p.i++
		tk := p.at(p.i)
		if tk == nil || line(tk) != line(dash) {
			return nil, false // an empty item or one on the next line
		}
		var (
			item ast.Node
			ok   bool
		)
		if p.isKey(p.i) {
			item, ok = p.mapping(column(tk), depth+1)
		} else {
			item, ok = p.inline(depth)
		}
		if !ok {
			return nil, false
		}
		seq.Values = append(seq.Values, item)
		switch next, after := p.after(col); {
		case after == irregular:
			return nil, false
		case after == collectionEnds || next.Type != token.SequenceEntryType:
			return seq, true // a token at the list's column that is not "-": the parent mapping's next key
		}
	}
}

// isScalar reports whether tk is a scalar on one line.
func isScalar(tk *token.Token) bool {
	switch tk.Type {
	case token.StringType, token.SingleQuoteType, token.DoubleQuoteType, token.NullType, token.BoolType,
		token.IntegerType, token.BinaryIntegerType, token.OctetIntegerType, token.HexIntegerType,
		token.FloatType, token.InfinityType, token.NanType:
		return !strings.Contains(strings.TrimSpace(tk.Origin), "\n")
	}
	return false
}

// scalar is the node goccy's parser makes of a one-line scalar token, nil
// for any other token.
func scalar(tk *token.Token) ast.ScalarNode {
	if !isScalar(tk) {
		return nil
	}
	switch tk.Type {
	case token.StringType, token.SingleQuoteType, token.DoubleQuoteType:
		return ast.String(tk)
	case token.NullType:
		return ast.Null(tk)
	case token.BoolType:
		return ast.Bool(tk)
	case token.IntegerType, token.BinaryIntegerType, token.OctetIntegerType, token.HexIntegerType:
		return ast.Integer(tk)
	case token.FloatType:
		return ast.Float(tk)
	case token.InfinityType:
		return ast.Infinity(tk)
	case token.NanType:
		return ast.Nan(tk)
	}
	return nil
}

// nullAfter is the value of a key with nothing after its ':'.
func nullAfter(colon *token.Token) ast.Node {
	pos := *colon.Position
	pos.Column++
	pos.Offset++
	return ast.Null(token.New("null", "null", &pos))
}
