package history

import (
	"bytes"
	"regexp"
)

// excerpt returns what in a config file can concern one customer: its
// top-level lines, each list item that mentions the customer's id (as a
// whole word), and each grants.all block. Two versions of a file whose
// excerpts are equal make the same statements about the customer, so a
// commit that renames another customer in a large customers file needs no
// parse. ok is false when the file's layout does not allow that shortcut
// (an id outside a block list item, an alias that could import a change
// from elsewhere): the file is then parsed.
func excerpt(src []byte, id string) (out []byte, ok bool) {
	lines := bytes.SplitAfter(src, []byte("\n"))
	keep := make([]bool, len(lines))
	for i, l := range lines {
		if indent(l) == 0 && !blankOrComment(l) {
			keep[i] = true
		}
	}
	for i, l := range lines {
		isAll := isAllKey(l)
		if !isAll && !mentions(l, id) {
			continue
		}
		start := i
		if !isAll {
			start = itemStart(lines, i)
			if start < 0 {
				return nil, false
			}
		}
		end := blockEnd(lines, start)
		for j := start; j < end; j++ {
			if alias.Match(lines[j]) {
				return nil, false
			}
			keep[j] = true
		}
	}
	for i, l := range lines {
		if keep[i] {
			out = append(out, l...)
		} else if len(out) > 0 && out[len(out)-1] != 0 {
			out = append(out, 0) // a gap: moving a kept line elsewhere is a change
		}
	}
	if out == nil {
		out = []byte{}
	}
	return out, true
}

// alias is a YAML alias or merge key, which can bring content from
// elsewhere in the file into an item.
var alias = regexp.MustCompile(`(^|[\s:,\[{-])\*[^\s]|<<\s*:`)

// isAllKey reports whether a line opens a grants.all key ("all:", in
// block or flow style). It runs on every line of a file, so it is written
// out rather than a regular expression.
func isAllKey(l []byte) bool {
	l = bytes.TrimLeft(l, " ")
	if bytes.HasPrefix(l, []byte("- ")) {
		l = bytes.TrimLeft(l[2:], " ")
	}
	if !bytes.HasPrefix(l, []byte("all")) {
		return false
	}
	l = bytes.TrimLeft(l[3:], " ")
	return len(l) > 0 && l[0] == ':'
}

// mentions reports whether line holds id as a whole word (not as part of
// a longer id).
func mentions(line []byte, id string) bool {
	for off := 0; ; {
		i := bytes.Index(line[off:], []byte(id))
		if i < 0 {
			return false
		}
		i += off
		end := i + len(id)
		if (i == 0 || !idByte(line[i-1])) && (end == len(line) || !idByte(line[end])) {
			return true
		}
		off = i + 1
	}
}

func idByte(b byte) bool {
	return b == '_' || b == '-' || b == '.' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// itemStart finds the block list item holding line i: the nearest line at
// or before it that opens an item ("- ") at an indentation no deeper than
// line i's. -1 when there is none before a line less indented than the
// item could be.
func itemStart(lines [][]byte, i int) int {
	limit := indent(lines[i])
	for j := i; j >= 0; j-- {
		l := lines[j]
		if blankOrComment(l) {
			continue
		}
		ind := indent(l)
		if ind <= limit && isItem(l) {
			return j
		}
		if ind < limit {
			limit = ind
		}
		if ind == 0 {
			return -1
		}
	}
	return -1
}

// blockEnd returns the line after the block that starts at line start:
// the following lines indented deeper than it, blank and comment lines
// included.
func blockEnd(lines [][]byte, start int) int {
	base := indent(lines[start])
	end := start + 1
	for j := start + 1; j < len(lines); j++ {
		if blankOrComment(lines[j]) {
			continue
		}
		if indent(lines[j]) <= base {
			break
		}
		end = j + 1
	}
	return end
}

func indent(l []byte) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

func blankOrComment(l []byte) bool {
	t := bytes.TrimSpace(l)
	return len(t) == 0 || t[0] == '#'
}

func isItem(l []byte) bool {
	t := bytes.TrimLeft(l, " ")
	return bytes.HasPrefix(t, []byte("- ")) || bytes.Equal(bytes.TrimRight(t, "\r\n"), []byte("-"))
}
