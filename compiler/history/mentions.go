package history

import (
	"bytes"
	"slices"
	"sync"

	"github.com/go-git/go-git/v5/plumbing"
)

// mentionIndex remembers, for each file version (blob) read, which ids it
// names as the value of an `id:` key — the customers it grants or records,
// and its promotion — and whether it has a grants.all block. A blob is
// immutable, so the answer, computed once, serves every later walk of any
// customer: a customer page then reads only the few file versions that can
// concern that customer instead of every changed file. The index is
// process-wide and bounded by maxIndexBytes (ids plus a per-entry
// overhead); past that the oldest entries are forgotten first.
type mentionIndex struct {
	mu      sync.Mutex
	entries map[plumbing.Hash]*mentionEntry
	order   []plumbing.Hash // insertion order, oldest first
	bytes   int
	max     int
}

// mentionEntry is what one blob says about ids.
type mentionEntry struct {
	size   int64
	hasAll bool // the text "all:" occurs: a grants.all block may concern anyone
	// unsure is set when an `id:` key's value could not be read as a plain
	// id on its line (a block scalar, an escape): the blob is then always
	// read, as without the index.
	unsure bool
	ids    []string // sorted, distinct
}

// maxIndexBytes bounds the memory the mention index holds: about 64 MiB,
// room for the ids of every file version of a repo with a million grants.
const maxIndexBytes = 64 << 20

// entryOverhead approximates the memory of an entry besides its id bytes.
const entryOverhead = 96

// idOverhead approximates the memory of one id besides its bytes.
const idOverhead = 16

var blobMentions = newMentionIndex(maxIndexBytes)

func newMentionIndex(max int) *mentionIndex {
	return &mentionIndex{entries: map[plumbing.Hash]*mentionEntry{}, max: max}
}

func (x *mentionIndex) get(h plumbing.Hash) (*mentionEntry, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	e, ok := x.entries[h]
	return e, ok
}

func (x *mentionIndex) put(h plumbing.Hash, e *mentionEntry) {
	cost := e.cost()
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.entries[h]; ok || cost > x.max {
		return
	}
	for x.bytes+cost > x.max && len(x.order) > 0 {
		old := x.order[0]
		x.order = x.order[1:]
		x.bytes -= x.entries[old].cost()
		delete(x.entries, old)
	}
	x.entries[h] = e
	x.order = append(x.order, h)
	x.bytes += cost
}

func (x *mentionIndex) len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.entries)
}

func (e *mentionEntry) cost() int {
	n := entryOverhead
	for _, id := range e.ids {
		n += len(id) + idOverhead
	}
	return n
}

// mayConcern reports whether the blob can hold anything about customer
// id: a grant or record of that id, or a grants.all block. A blob over
// the size limit is never read, so it concerns no one.
func (e *mentionEntry) mayConcern(id string, maxFileBytes int64) bool {
	if maxFileBytes > 0 && e.size > maxFileBytes {
		return false
	}
	if e.hasAll || e.unsure {
		return true
	}
	_, found := slices.BinarySearch(e.ids, id)
	return found
}

// indexMentions reads the ids a file version names as `id:` values.
func indexMentions(size int64, src []byte) *mentionEntry {
	e := &mentionEntry{size: size, hasAll: bytes.Contains(src, []byte("all:"))}
	for off := 0; ; {
		i := bytes.Index(src[off:], []byte("id"))
		if i < 0 {
			break
		}
		i += off
		off = i + 2
		if i > 0 && !keyStart(src[i-1]) {
			continue
		}
		j := i + 2
		if j < len(src) && (src[j] == '"' || src[j] == '\'') {
			j++
		}
		if j >= len(src) || src[j] != ':' {
			continue
		}
		j++
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
		if j < len(src) && (src[j] == '"' || src[j] == '\'') {
			j++
		}
		start := j
		for j < len(src) && idByte(src[j]) {
			j++
		}
		if j == start || (j < len(src) && !valueEnd(src[j])) {
			e.unsure = true
			continue
		}
		e.ids = append(e.ids, string(src[start:j]))
	}
	slices.Sort(e.ids)
	e.ids = slices.Compact(e.ids)
	return e
}

// keyStart is a byte that can stand before a key: a line start, an
// indentation, a list dash, a flow mapping or a quote.
func keyStart(b byte) bool {
	switch b {
	case '\n', ' ', '\t', '-', '{', ',', '"', '\'':
		return true
	}
	return false
}

// valueEnd is a byte that can end a plain or quoted id on its line.
func valueEnd(b byte) bool {
	switch b {
	case '\n', '\r', ' ', '\t', '"', '\'', ',', '}', ']', '#':
		return true
	}
	return false
}
