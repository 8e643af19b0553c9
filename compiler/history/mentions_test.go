package history

import (
	"fmt"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/stretchr/testify/assert"
)

func TestIndexMentionsReadsIDValues(t *testing.T) {
	for name, tc := range map[string]struct {
		src    string
		ids    []string
		hasAll bool
		unsure bool
	}{
		"block items and the promotion's own id": {src: "kind: PromotionalEntitlement\nid: boost\ngrants:\n  customers:\n    - id: cus_2\n      state: granted\n    - id: cus_1\n", ids: []string{"boost", "cus_1", "cus_2"}},
		"flow mappings":                          {src: "customers:\n  - {id: cus_1, plan: starter}\n  - {plan: growth, id: cus_9}\n", ids: []string{"cus_1", "cus_9"}},
		"quoted keys and values":                 {src: "customers:\n  - \"id\": \"cus_1\"\n  - id: 'cus_2' # note\n", ids: []string{"cus_1", "cus_2"}},
		"other keys ending in id are no id":      {src: "customer_id: cus_3\npaid: yes\nid: x\n", ids: []string{"x"}},
		"grants.all concerns everyone":           {src: "grants:\n  all:\n    granted_at: 2026-03-01T00:00:00Z\n", hasAll: true},
		"an id on the next line is not read":     {src: "customers:\n  - id:\n      cus_1\n", unsure: true},
		"an escaped id is not read":              {src: "customers:\n  - id: \"cus\\u005f1\"\n", unsure: true},
		"an id with other characters":            {src: "customers:\n  - id: cus:1\n", unsure: true},
	} {
		t.Run(name, func(t *testing.T) {
			e := indexMentions(int64(len(tc.src)), []byte(tc.src))
			assert.Equal(t, tc.ids, e.ids)
			assert.Equal(t, tc.hasAll, e.hasAll)
			assert.Equal(t, tc.unsure, e.unsure)
		})
	}
}

func TestMentionEntryMayConcern(t *testing.T) {
	e := indexMentions(100, []byte("customers:\n  - id: cus_1\n  - id: cus_10\n"))
	for name, tc := range map[string]struct {
		id       string
		maxBytes int64
		want     bool
	}{
		"a named customer":                  {"cus_1", 0, true},
		"a prefix of a named id is not one": {"cus_", 0, false},
		"a customer not named":              {"cus_2", 0, false},
		"a file over the size limit":        {"cus_1", 50, false},
		"a file within the size limit":      {"cus_1", 100, true},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, e.mayConcern(tc.id, tc.maxBytes))
		})
	}
}

func TestMentionIndexStaysWithinItsBound(t *testing.T) {
	entry := &mentionEntry{ids: []string{"cus_1"}}
	x := newMentionIndex(3 * entry.cost())
	var hashes []plumbing.Hash
	for i := range 5 {
		h := plumbing.ComputeHash(plumbing.BlobObject, fmt.Appendf(nil, "v%d", i))
		hashes = append(hashes, h)
		x.put(h, entry)
		assert.LessOrEqual(t, x.bytes, x.max)
	}
	assert.Equal(t, 3, x.len())
	for i, h := range hashes {
		_, ok := x.get(h)
		assert.Equal(t, i >= 2, ok, "version %d: the oldest are forgotten first", i)
	}
}
