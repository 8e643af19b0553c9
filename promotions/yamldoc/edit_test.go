package yamldoc_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/golden"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func item(id, state, grantedAt string) []yamldoc.Field {
	return []yamldoc.Field{{Key: "id", Value: id}, {Key: "state", Value: state}, {Key: "granted_at", Value: ts(grantedAt)}}
}

var (
	customers = promotions.P("grants", "customers")
	entry     = func(i int, key string) promotions.Path { return customers.Index(i).Key(key) }
)

// Each case edits an input of testdata/edit and compares the result with
// testdata/edit/<name>.golden.yaml. touched lists the input lines (1-based)
// that edits may change; every other input line must survive byte for byte.
func TestEditorGolden(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		edit    func(e *yamldoc.Editor) error
		touched []int
	}{
		{
			name:  "append-like-siblings",
			input: "spring.yaml",
			edit: func(e *yamldoc.Editor) error {
				return e.Append(customers, item("cus_002", "granted", "2026-04-20T10:00:00Z"), item("12345", "granted", "2026-04-20T10:00:00Z"))
			},
		},
		{
			name:  "regrant-revoked-entry",
			input: "spring.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Set(entry(2, "state"), "granted"), e.Set(entry(2, "granted_at"), ts("2026-04-20T10:00:00Z")),
					e.Remove(entry(2, "revoked_at")))
			},
			touched: []int{37, 38, 39},
		},
		{
			name:  "revoke-entry-inserts-revoked-at",
			input: "spring.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Set(entry(0, "state"), "revoked"), e.Set(entry(0, "revoked_at"), ts("2026-04-20T10:00:00Z")))
			},
			touched: []int{29},
		},
		{
			name:  "deactivate-inserts-after-status",
			input: "spring.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Set(promotions.P("status"), "deactivated"), e.Set(promotions.P("deactivated_at"), ts("2026-04-20T10:00:00Z")))
			},
			touched: []int{9},
		},
		{
			name:  "replace-eligibility",
			input: "spring.yaml",
			edit: func(e *yamldoc.Editor) error {
				return e.Replace(promotions.P("eligibility"), []yamldoc.Field{
					{Key: "plans", Value: yamldoc.FlowList{"starter"}},
					{Key: "attributes", Value: []yamldoc.Field{{Key: "region", Value: yamldoc.FlowList{"eu", "non-eu"}}}},
				})
			},
			touched: []int{22, 23, 24},
		},
		{
			name:  "replace-eligibility-keeps-indentation",
			input: "draft.yaml",
			edit: func(e *yamldoc.Editor) error {
				return e.Replace(promotions.P("eligibility"), []yamldoc.Field{{Key: "plans", Value: yamldoc.FlowList{"growth", "starter"}}})
			},
			touched: []int{9, 10},
		},
		{
			name:  "create-grants-and-is-applied",
			input: "draft.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Set(promotions.P("is_applied"), true), e.Append(customers, item("cus_1", "granted", "2026-01-05T00:00:00Z")))
			},
		},
		{
			name:  "create-grants-all",
			input: "draft.yaml",
			edit: func(e *yamldoc.Editor) error {
				return e.Set(promotions.P("grants", "all", "granted_at"), ts("2026-01-05T00:00:00Z"))
			},
		},
		{
			name:  "keep-quoting-style",
			input: "styles.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Set(promotions.P("status"), "deactivated"), e.Set(promotions.P("deactivated_at"), ts("2026-02-01T00:00:00Z")),
					e.Set(promotions.P("grants", "all", "revoked_at"), ts("2026-02-01T00:00:00Z")),
					e.Set(entry(1, "state"), "revoked"), e.Set(entry(1, "revoked_at"), ts("2026-02-01T00:00:00Z")),
					e.Set(promotions.P("grants", "all", "granted_at"), ts("2026-01-01T12:00:00Z")))
			},
			touched: []int{4, 10, 18},
		},
		{
			name:  "compact-sequence-sibling",
			input: "styles.yaml",
			edit: func(e *yamldoc.Editor) error {
				return e.Append(customers, item("c-3", "granted", "2026-01-04T00:00:00Z"), item("it's", "granted", "2026-01-04T00:00:00Z"))
			},
		},
		{
			name:  "empty-flow-sequence",
			input: "flow-empty.yaml",
			edit: func(e *yamldoc.Editor) error {
				return e.Append(customers, item("a", "granted", "2026-01-04T00:00:00Z"))
			},
			touched: []int{9},
		},
		{
			name:  "no-final-newline",
			input: "no-newline.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Append(customers, item("b", "granted", "2026-01-04T00:00:00Z")),
					e.Set(entry(0, "state"), "revoked"), e.Set(entry(0, "revoked_at"), ts("2026-01-05T00:00:00Z")))
			},
			touched: []int{10, 11},
		},
		{
			name:  "activate-removes-deactivated-at",
			input: "deactivated.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Set(promotions.P("status"), "active"), e.Remove(promotions.P("deactivated_at")))
			},
			touched: []int{4, 5},
		},
		{
			name:  "regrant-all",
			input: "deactivated.yaml",
			edit: func(e *yamldoc.Editor) error {
				return all(e.Set(promotions.P("grants", "all", "granted_at"), ts("2026-03-01T00:00:00Z")),
					e.Remove(promotions.P("grants", "all", "revoked_at")))
			},
			touched: []int{11, 12},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "edit", tt.input))
			require.NoError(t, err)
			e, err := yamldoc.NewEditor(tt.input, src)
			require.NoError(t, err)
			require.NoError(t, tt.edit(e))
			out, err := e.Apply()
			require.NoError(t, err)
			golden.Assert(t, "edit/"+tt.name+".golden.yaml", string(out))
			assertUntouchedLines(t, src, out, e.Edits(), tt.touched)
			doc, diags := yamldoc.ParseDocument(tt.input, out, promotions.DefaultLimits)
			require.Empty(t, diags)
			require.NotNil(t, doc)
		})
	}
}

func all(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// assertUntouchedLines checks that the edits change exactly the input lines
// in touched (insertions between lines change none), and that every other
// input line appears in the output unchanged, in order, with only inserted
// lines between them.
func assertUntouchedLines(t *testing.T, src, out []byte, edits []yamldoc.Edit, touched []int) {
	t.Helper()
	lines := bytes.SplitAfter(src, []byte("\n"))
	starts := make([]int, len(lines)+1)
	for i, l := range lines {
		starts[i+1] = starts[i] + len(l)
	}
	changed := map[int]bool{}
	for _, ed := range edits {
		for i := range lines {
			ls, le := starts[i], starts[i+1]
			removes := ed.End > ed.Start && ed.Start < le && ed.End > ls
			insertsInside := ed.End == ed.Start && ed.Start > ls &&
				(ed.Start < le || (ed.Start == le && !bytes.HasSuffix(lines[i], []byte("\n"))))
			if removes || insertsInside {
				changed[i+1] = true
			}
		}
	}
	var got []int
	for l := range changed {
		got = append(got, l)
	}
	sort.Ints(got)
	if touched == nil {
		touched = []int{}
	}
	if got == nil {
		got = []int{}
	}
	assert.Equal(t, touched, got, "input lines changed by the edits")

	// every unchanged input line is found in the output, in order
	outLines := bytes.SplitAfter(out, []byte("\n"))
	j := 0
	for i, l := range lines {
		if changed[i+1] || len(l) == 0 {
			continue
		}
		for j < len(outLines) && !bytes.Equal(outLines[j], l) {
			j++
		}
		if !assert.Less(t, j, len(outLines), "input line %d %q is missing from the output", i+1, l) {
			return
		}
		j++
	}
}

func TestEditorRefusesWhatItCannotEditFaithfully(t *testing.T) {
	tests := []struct {
		name  string
		input string
		edit  func(e *yamldoc.Editor) error
		want  string
	}{
		{"append to a non-empty flow sequence", "flow-full.yaml",
			func(e *yamldoc.Editor) error {
				return e.Append(customers, item("b", "granted", "2026-01-01T00:00:00Z"))
			},
			"flow style"},
		{"set a scalar inside a flow mapping", "flow-full.yaml",
			func(e *yamldoc.Editor) error { return e.Set(entry(0, "state"), "revoked") },
			"flow style"},
		{"add a key to a non-empty flow mapping", "flow-empty.yaml",
			func(e *yamldoc.Editor) error {
				return e.Set(promotions.P("grants", "all", "revoked_at"), ts("2026-02-01T00:00:00Z"))
			},
			"flow style"},
		{"set a mapping as if it were a scalar", "spring.yaml",
			func(e *yamldoc.Editor) error { return e.Set(promotions.P("window"), "x") },
			"not a one-line scalar"},
		{"create the same key twice", "draft.yaml",
			func(e *yamldoc.Editor) error {
				return all(e.Set(promotions.P("grants", "all", "granted_at"), ts("2026-01-05T00:00:00Z")),
					e.Append(customers, item("a", "granted", "2026-01-05T00:00:00Z")))
			},
			"created twice"},
		{"remove the first key of a list item", "spring.yaml",
			func(e *yamldoc.Editor) error { return e.Remove(entry(0, "id")) },
			"shares its line"},
		{"set a name written over several lines", "../multiline/multiline-plain.yaml",
			func(e *yamldoc.Editor) error { return e.Set(promotions.P("name"), "Enterprise SSO") },
			"name: its value is written over several lines"},
		{"set a state written over several lines", "../multiline/multiline-plain.yaml",
			func(e *yamldoc.Editor) error { return e.Set(entry(0, "state"), "revoked") },
			"state: its value is written over several lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := os.ReadFile(filepath.Join("testdata", "edit", tt.input))
			require.NoError(t, err)
			e, err := yamldoc.NewEditor(tt.input, src)
			require.NoError(t, err)
			err = tt.edit(e)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestApplyEdits(t *testing.T) {
	src := []byte("abcdef")
	tests := []struct {
		name  string
		edits []yamldoc.Edit
		want  string
		err   string
	}{
		{"replace", []yamldoc.Edit{{Start: 1, End: 3, Text: "XY"}}, "aXYdef", ""},
		{"insertions at one offset keep their order", []yamldoc.Edit{{Start: 2, End: 2, Text: "1"}, {Start: 2, End: 2, Text: "2"}}, "ab12cdef", ""},
		{"insertion before a replacement at the same offset", []yamldoc.Edit{{Start: 2, End: 4, Text: "-"}, {Start: 2, End: 2, Text: "+"}}, "ab+-ef", ""},
		{"back to front or front to back alike", []yamldoc.Edit{{Start: 5, End: 6, Text: "F"}, {Start: 0, End: 1, Text: "A"}}, "AbcdeF", ""},
		{"overlap", []yamldoc.Edit{{Start: 1, End: 3}, {Start: 2, End: 4}}, "", "overlap"},
		{"out of range", []yamldoc.Edit{{Start: 4, End: 9}}, "", "outside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := yamldoc.ApplyEdits(src, tt.edits)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, "abcdef", string(src), "the source is not modified")
		})
	}
}

func TestEditorQuotesOnlyWhatNeedsIt(t *testing.T) {
	tests := []struct{ value, want string }{
		{"cus_001", "cus_001"},
		{"Summer calls", "Summer calls"},
		{"user@example.com", "user@example.com"},
		{"12345", `"12345"`},
		{"true", `"true"`},
		{"No", `"No"`},
		{"null", `"null"`},
		{"1e3", `"1e3"`},
		{"a: b", `"a: b"`},
		{"x # y", `"x # y"`},
		{"- item", `"- item"`},
		{"", `""`},
		{" padded", `" padded"`},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			e, err := yamldoc.NewEditor("p.yaml", []byte("kind: PromotionalEntitlement\nname: x\n"))
			require.NoError(t, err)
			require.NoError(t, e.Set(promotions.P("name"), tt.value))
			out, err := e.Apply()
			require.NoError(t, err)
			assert.Equal(t, "kind: PromotionalEntitlement\nname: "+tt.want+"\n", string(out))
			doc, diags := yamldoc.ParseDocument("p.yaml", out, promotions.DefaultLimits)
			require.Empty(t, diags)
			assert.Equal(t, tt.value, doc.Value["name"], "reads back as the same string")
		})
	}
}
