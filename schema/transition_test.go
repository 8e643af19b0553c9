package schema_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/build"
	"cuelang.org/go/cue/cuecontext"
	"cuelang.org/go/cue/parser"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
	"github.com/promoctl/promoctl/schema"
)

const appliedBase = `kind: PromotionalEntitlement
id: boost
name: Boost
feature: api_calls
feature_type: metered
window:
  start: 2026-03-01T00:00:00Z
  end: 2026-06-01T00:00:00Z
duration:
  value: 3
  unit: months
metered:
  mode: additive
  allowance: 5000
  reset: monthly
eligibility:
  plans: [starter, growth]
  attributes: {region: [eu, us]}
is_applied: true
grants:
  customers:
    - id: cus_1
      state: granted
      granted_at: 2026-03-02T00:00:00Z
`

// edit replaces each old line of src (which must occur exactly once) by
// its new text; an empty new text deletes the line.
func edit(t *testing.T, src string, pairs ...string) string {
	t.Helper()
	require.Zero(t, len(pairs)%2, "edit takes old/new pairs")
	for i := 0; i < len(pairs); i += 2 {
		old, repl := pairs[i]+"\n", pairs[i+1]
		require.Equal(t, 1, strings.Count(src, old), "line %q must occur once", pairs[i])
		if repl != "" {
			repl += "\n"
		}
		src = strings.Replace(src, old, repl, 1)
	}
	return src
}

func parse(t *testing.T, file, src string) *yamldoc.Document {
	t.Helper()
	doc, diags := yamldoc.ParseDocument(file, []byte(src), promotions.DefaultLimits)
	require.Empty(t, diags)
	require.NotNil(t, doc)
	return doc
}

func TestCheckTransition(t *testing.T) {
	sch, err := schema.Compile()
	require.NoError(t, err)
	const only = "; only name, description, status and grants may change"

	tests := []struct {
		name string
		base string // defaults to appliedBase
		head string
		want []string // "line:col CODE path: message"
	}{
		{
			name: "unchanged",
			head: appliedBase,
		},
		{
			name: "safe fields change",
			head: edit(t, appliedBase,
				"name: Boost", "name: Bigger boost\ndescription: now with a description\nstatus: deactivated\ndeactivated_at: 2026-04-01T00:00:00Z",
				"      state: granted", "      state: revoked\n      revoked_at: 2026-04-01T00:00:00Z",
			) + "    - id: cus_2\n      state: revoked\n      granted_at: 2026-03-03T00:00:00Z\n      revoked_at: 2026-04-01T00:00:00Z\n",
		},
		{
			name: "same instant in another offset",
			head: edit(t, appliedBase, "  start: 2026-03-01T00:00:00Z", "  start: 2026-03-01T01:00:00+01:00"),
		},
		{
			name: "eligibility lists are sets",
			head: edit(t, appliedBase,
				"  plans: [starter, growth]", "  plans: [growth, starter, growth]",
				"  attributes: {region: [eu, us]}", "  attributes: {region: [us, eu]}"),
		},
		{
			name: "not applied in the base may change freely",
			base: edit(t, appliedBase, "is_applied: true", "is_applied: false"),
			head: edit(t, appliedBase, "feature: api_calls", "feature: seats", "is_applied: true", "is_applied: false", "  allowance: 5000", ""),
		},
		{
			name: "feature changed",
			head: edit(t, appliedBase, "feature: api_calls", "feature: seats"),
			want: []string{"4:10 LOCKED_FIELD feature: feature is locked because boost is applied (base api_calls, head seats)" + only},
		},
		{
			name: "feature_type changed",
			head: edit(t, appliedBase, "feature_type: metered", "feature_type: boolean"),
			want: []string{"5:15 LOCKED_FIELD feature_type: feature_type is locked because boost is applied (base metered, head boolean)" + only},
		},
		{
			name: "window.start changed",
			head: edit(t, appliedBase, "  start: 2026-03-01T00:00:00Z", "  start: 2026-02-01T00:00:00Z"),
			want: []string{"7:10 LOCKED_FIELD window.start: window.start is locked because boost is applied (base 2026-03-01T00:00:00Z, head 2026-02-01T00:00:00Z)" + only},
		},
		{
			name: "window.end removed",
			head: edit(t, appliedBase, "  end: 2026-06-01T00:00:00Z", ""),
			want: []string{"6:1 LOCKED_FIELD window.end: window.end is locked because boost is applied (base 2026-06-01T00:00:00Z, head absent)" + only},
		},
		{
			name: "window removed",
			head: edit(t, appliedBase, "window:", "", "  start: 2026-03-01T00:00:00Z", "", "  end: 2026-06-01T00:00:00Z", ""),
			want: []string{"1:1 LOCKED_FIELD window: window is locked because boost is applied (base {end: 2026-06-01T00:00:00Z, start: 2026-03-01T00:00:00Z}, head absent)" + only},
		},
		{
			name: "duration.value changed",
			head: edit(t, appliedBase, "  value: 3", "  value: 6"),
			want: []string{"10:10 LOCKED_FIELD duration.value: duration.value is locked because boost is applied (base 3, head 6)" + only},
		},
		{
			name: "duration.unit changed",
			head: edit(t, appliedBase, "  unit: months", "  unit: weeks"),
			want: []string{"11:9 LOCKED_FIELD duration.unit: duration.unit is locked because boost is applied (base months, head weeks)" + only},
		},
		{
			name: "duration removed",
			head: edit(t, appliedBase, "duration:", "", "  value: 3", "", "  unit: months", ""),
			want: []string{"1:1 LOCKED_FIELD duration: duration is locked because boost is applied (base {unit: months, value: 3}, head absent)" + only},
		},
		{
			name: "duration added",
			base: edit(t, appliedBase, "duration:", "", "  value: 3", "", "  unit: months", ""),
			head: appliedBase,
			want: []string{"9:1 LOCKED_FIELD duration: duration is locked because boost is applied (base absent, head {unit: months, value: 3})" + only},
		},
		{
			name: "metered.mode changed",
			head: edit(t, appliedBase, "  mode: additive", "  mode: override"),
			want: []string{"13:9 LOCKED_FIELD metered.mode: metered.mode is locked because boost is applied (base additive, head override)" + only},
		},
		{
			name: "metered.allowance changed",
			head: edit(t, appliedBase, "  allowance: 5000", "  allowance: 8000"),
			want: []string{"14:14 LOCKED_FIELD metered.allowance: metered.allowance is locked because boost is applied (base 5000, head 8000)" + only},
		},
		{
			name: "metered.allowance to unlimited",
			head: edit(t, appliedBase, "  allowance: 5000", "  allowance: unlimited"),
			want: []string{"14:14 LOCKED_FIELD metered.allowance: metered.allowance is locked because boost is applied (base 5000, head unlimited)" + only},
		},
		{
			name: "metered.reset changed",
			head: edit(t, appliedBase, "  reset: monthly", "  reset: daily"),
			want: []string{"15:10 LOCKED_FIELD metered.reset: metered.reset is locked because boost is applied (base monthly, head daily)" + only},
		},
		{
			name: "metered removed",
			head: edit(t, appliedBase, "metered:", "", "  mode: additive", "", "  allowance: 5000", "", "  reset: monthly", ""),
			want: []string{"1:1 LOCKED_FIELD metered: metered is locked because boost is applied (base {allowance: 5000, mode: additive, reset: monthly}, head absent)" + only},
		},
		{
			name: "eligibility.plans changed",
			head: edit(t, appliedBase, "  plans: [starter, growth]", "  plans: [starter]"),
			want: []string{"17:10 LOCKED_FIELD eligibility.plans: eligibility.plans is locked because boost is applied (base [starter, growth], head [starter])" + only},
		},
		{
			name: "eligibility attribute added",
			head: edit(t, appliedBase, "  attributes: {region: [eu, us]}", "  attributes: {region: [eu, us], segment: [smb]}"),
			want: []string{"18:43 LOCKED_FIELD eligibility.attributes.segment: eligibility.attributes.segment is locked because boost is applied (base absent, head [smb])" + only},
		},
		{
			name: "eligibility attribute removed",
			head: edit(t, appliedBase, "  attributes: {region: [eu, us]}", ""),
			want: []string{"16:1 LOCKED_FIELD eligibility.attributes.region: eligibility.attributes.region is locked because boost is applied (base [eu, us], head absent)" + only},
		},
		{
			name: "eligibility added",
			base: edit(t, appliedBase, "eligibility:", "", "  plans: [starter, growth]", "", "  attributes: {region: [eu, us]}", ""),
			head: appliedBase,
			want: []string{"16:1 LOCKED_FIELD eligibility: eligibility is locked because boost is applied (base absent, head {attributes: {region: [eu, us]}, plans: [starter, growth]})" + only},
		},
		{
			name: "empty plans list restricts nothing",
			base: edit(t, appliedBase, "  plans: [starter, growth]", ""),
			head: edit(t, appliedBase, "  plans: [starter, growth]", "  plans: []"),
		},
		{
			name: "is_applied back to false",
			head: edit(t, appliedBase, "is_applied: true", "is_applied: false"),
			want: []string{"19:13 APPLIED_UNLOCKED is_applied: boost is applied in the base, so is_applied must stay true (found false); deactivate it instead"},
		},
		{
			name: "is_applied removed",
			head: edit(t, appliedBase, "is_applied: true", ""),
			want: []string{"1:1 APPLIED_UNLOCKED is_applied: boost is applied in the base, so is_applied must stay true (found absent); deactivate it instead"},
		},
		{
			name: "several changes are all reported",
			head: edit(t, appliedBase, "  allowance: 5000", "  allowance: 8000", "  reset: monthly", "  reset: daily", "is_applied: true", "is_applied: false"),
			want: []string{
				"14:14 LOCKED_FIELD metered.allowance: metered.allowance is locked because boost is applied (base 5000, head 8000)" + only,
				"15:10 LOCKED_FIELD metered.reset: metered.reset is locked because boost is applied (base monthly, head daily)" + only,
				"19:13 APPLIED_UNLOCKED is_applied: boost is applied in the base, so is_applied must stay true (found false); deactivate it instead",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := tt.base
			if base == "" {
				base = appliedBase
			}
			diags := sch.CheckTransition(parse(t, "old/boost.yaml", base), parse(t, "promotions/boost.yaml", tt.head))
			diags.Sort()
			got := []string{}
			for _, d := range diags {
				assert.Equal(t, "promotions/boost.yaml", d.File)
				assert.Equal(t, promotions.SeverityError, d.Severity)
				got = append(got, fmt.Sprintf("%d:%d %s %s: %s", d.Line, d.Column, d.Code, d.Path, d.Message))
			}
			want := tt.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, got)
		})
	}
}

// TestLockCoversEveryField keeps the transition schema in step with the
// promotion schema: a new field must be declared locked or editable.
func TestLockCoversEveryField(t *testing.T) {
	sch, err := schema.Compile()
	require.NoError(t, err)
	covered := append(append([]string{"kind", "is_applied"}, sch.LockedFields()...), sch.EditableFields()...)
	sort.Strings(covered)

	declared := promotionFields(t)
	sort.Strings(declared)
	assert.Equal(t, declared, covered)
}

func promotionFields(t *testing.T) []string {
	t.Helper()
	inst := build.NewContext().NewInstance("schema", nil)
	for name, src := range schema.Sources() {
		f, err := parser.ParseFile(name, src, parser.ParseComments)
		require.NoError(t, err)
		require.NoError(t, inst.AddSyntax(f))
	}
	root := cuecontext.New().BuildInstance(inst)
	require.NoError(t, root.Err())
	// Every field of #PromotionalEntitlement; those declared only inside a
	// condition on a non-concrete value are added by name below.
	var fields []string
	it, err := root.LookupPath(cue.ParsePath("#PromotionalEntitlement")).Fields(cue.Optional(true))
	require.NoError(t, err)
	for it.Next() {
		fields = append(fields, it.Selector().Unquoted())
	}
	for _, conditional := range []string{"deactivated_at", "metered"} {
		if !containsString(fields, conditional) {
			fields = append(fields, conditional)
		}
	}
	return fields
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestFlattenCanonical(t *testing.T) {
	doc := parse(t, "p.yaml", edit(t, appliedBase, "  start: 2026-03-01T00:00:00Z", "  start: 2026-03-01T01:00:00+01:00"))
	leaves := schema.Flatten(doc.Value, []string{"window", "eligibility"})
	got := map[string]any{}
	for _, l := range leaves {
		got[l.Key] = l.Value
	}
	assert.Equal(t, map[string]any{
		"window.start":                  "2026-03-01T00:00:00Z",
		"window.end":                    "2026-06-01T00:00:00Z",
		"eligibility.plans":             []any{"growth", "starter"},
		"eligibility.attributes.region": []any{"eu", "us"},
	}, got)
}

func TestRenderValue(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{int64(5000), "5000"},
		{"unlimited", "unlimited"},
		{"2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"},
		{"a, b", `"a, b"`},
		{"", `""`},
		{[]any{"eu", "us"}, "[eu, us]"},
		{map[string]any{"value": int64(3), "unit": "months"}, "{unit: months, value: 3}"},
		{nil, "null"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, schema.RenderValue(tt.in))
	}
}
