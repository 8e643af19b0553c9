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

// forCustomer returns src without the customer entries that do not
// mention id: every block list item that opens with an id key ("- id:" or
// "- {id:") and does not hold id as a whole word is left out. What is left
// is still the file's YAML, and says about the customer what the whole
// file says, so parsing it answers a customer's history at the cost of
// the lines about them rather than of a file of a thousand grants. ok is
// false when the file uses aliases (a left-out item could be what one
// refers to): it is then parsed whole.
func forCustomer(src []byte, id string) (out []byte, ok bool) {
	// The regular expression costs more than the rest on a large file:
	// most files have neither a star nor a merge key, and skip it.
	if (bytes.IndexByte(src, '*') >= 0 || bytes.Contains(src, []byte("<<"))) && alias.Match(src) {
		return nil, false
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	out = make([]byte, 0, 4096)
	for i := 0; i < len(lines); {
		l := lines[i]
		if !isEntry(l) {
			out = append(out, l...)
			i++
			continue
		}
		end := blockEnd(lines, i)
		keep := false
		for j := i; j < end && !keep; j++ {
			keep = mentions(lines[j], id)
		}
		if keep {
			for j := i; j < end; j++ {
				out = append(out, lines[j]...)
			}
		}
		i = end
	}
	return out, true
}

// isEntry reports whether a line opens a block list item whose first key
// is id: a grant entry or a directory record.
func isEntry(l []byte) bool {
	t := bytes.TrimLeft(l, " ")
	if !bytes.HasPrefix(t, []byte("- ")) {
		return false
	}
	t = bytes.TrimLeft(t[2:], " ")
	t = bytes.TrimPrefix(t, []byte("{"))
	t = bytes.TrimLeft(t, " ")
	return bytes.HasPrefix(t, []byte("id:"))
}
