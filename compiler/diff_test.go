package compiler_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/compiler/report"
	"github.com/promoctl/promoctl/internal/golden"
	"github.com/promoctl/promoctl/promotions"
)

// planCase changes every kind of thing a plan reports.
var planCase = lockCase{head: func(t *testing.T, files map[string]string) {
	files[boostFile] = editFile(t, files[boostFile],
		"name: Boost", "name: Spring boost",
		"  allowance: 5000", "  allowance: 8000",
		"    - id: cus_1\n      state: granted", "    - id: cus_1\n      state: revoked\n      revoked_at: 2026-04-01T00:00:00Z",
		"    - id: cus_2\n      state: revoked\n      granted_at: 2026-03-02T09:00:00Z\n      revoked_at: 2026-03-10T00:00:00Z",
		"    - id: cus_2\n      state: granted\n      granted_at: 2026-04-02T00:00:00Z\n      previous:\n        - {granted_at: 2026-03-02T09:00:00Z, revoked_at: 2026-03-10T00:00:00Z}",
	) + "    - id: cus_3\n      state: granted\n      granted_at: 2026-04-02T00:00:00Z\n"
	files["promotions/draft.yaml"] = editFile(t, files["promotions/draft.yaml"],
		"name: Draft SSO trial", "name: Draft SSO trial\ndescription: Two weeks of SSO\nstatus: deactivated\ndeactivated_at: 2026-04-15T00:00:00Z",
		"  unit: weeks", "  unit: days")
	files["promotions/welcome.yaml"] = "kind: PromotionalEntitlement\nid: welcome\nname: Welcome\nfeature: sso\nfeature_type: boolean\n" +
		"is_applied: true\ngrants:\n  all:\n    granted_at: 2026-04-01T00:00:00Z\n  customers:\n    - id: cus_4\n      state: granted\n      granted_at: 2026-04-01T00:00:00Z\n"
	files["customers/customers.yaml"] = editFile(t, files["customers/customers.yaml"],
		"    name: Linus", "    name: Linus T.") + "  - id: cus_5\n    plan: growth\n"
	files["plans/growth.yaml"] = editFile(t, files["plans/growth.yaml"], "    allowance: 10000", "    allowance: 20000")
}}

func TestDiffRenderers(t *testing.T) {
	dir := commitCase(t, planCase)
	base, err := compiler.OpenRevision(dir, "HEAD~1")
	require.NoError(t, err)
	plan, err := compiler.Diff(os.DirFS(dir), base.FS, compiler.Options{Now: planNow}, "HEAD~1", "working tree")
	require.NoError(t, err)

	var text, md, js bytes.Buffer
	require.NoError(t, report.ChangesText(&text, plan))
	require.NoError(t, report.ChangesMarkdown(&md, plan))
	require.NoError(t, report.ChangesJSON(&js, plan))
	golden.Assert(t, "diff/plan.txt", text.String())
	golden.Assert(t, "diff/plan.md", md.String())
	golden.Assert(t, "diff/plan.json", js.String())

	// The JSON form carries the whole plan: decoding and encoding again
	// gives the same bytes.
	var decoded compiler.ChangeSet
	require.NoError(t, json.Unmarshal(js.Bytes(), &decoded))
	var again bytes.Buffer
	require.NoError(t, report.ChangesJSON(&again, &decoded))
	assert.Equal(t, js.String(), again.String())
}

func TestDiffFacts(t *testing.T) {
	dir := commitCase(t, planCase)
	base, err := compiler.OpenRevision(dir, "HEAD~1")
	require.NoError(t, err)
	plan, err := compiler.Diff(os.DirFS(dir), base.FS, compiler.Options{Now: planNow}, "b", "h")
	require.NoError(t, err)

	assert.False(t, plan.Valid)
	var warned []string
	for _, w := range plan.Warnings {
		warned = append(warned, fmt.Sprintf("%s %s:%d:%d %s", w.Code, w.File, w.Line, w.Column, w.Path))
	}
	assert.Equal(t, []string{
		"GRANT_BACKDATED promotions/welcome.yaml:9:17 grants.all.granted_at",
		"GRANT_BACKDATED promotions/welcome.yaml:13:19 grants.customers[0].granted_at",
	}, warned, "cus_2 and cus_3 start within the hour before the clock; cus_1's revoke adds no period")
	require.Len(t, plan.Violations, 1)
	assert.Equal(t, "LOCKED_FIELD", plan.Violations[0].Code)

	byID := map[string]compiler.PromotionChange{}
	for _, ch := range plan.Promotions {
		byID[ch.ID] = ch
	}
	require.Len(t, byID, 3)
	boost := byID["boost"]
	assert.Equal(t, compiler.ChangeChanged, boost.Change)
	assert.Equal(t, []compiler.FieldChange{
		{Field: "metered.allowance", Old: "5000", New: "8000"},
		{Field: "name", Old: "Boost", New: "Spring boost"},
	}, boost.Fields)
	assert.Equal(t, compiler.IDSample{Count: 1, IDs: []string{"cus_3"}}, boost.Grants.Granted)
	assert.Equal(t, compiler.IDSample{Count: 1, IDs: []string{"cus_1"}}, boost.Grants.Revoked)
	assert.Equal(t, compiler.IDSample{Count: 1, IDs: []string{"cus_2"}}, boost.Grants.Regranted)

	draft := byID["draft"]
	assert.Equal(t, promotions.OutcomeDeactivated, draft.Status)
	assert.Equal(t, compiler.ChangeAdded, byID["welcome"].Change)
	assert.Equal(t, promotions.OutcomeGranted, byID["welcome"].Grants.All)
	assert.Equal(t, []compiler.Term{{Field: "name", Value: "Welcome"}, {Field: "feature", Value: "sso"}, {Field: "feature_type", Value: "boolean"}},
		byID["welcome"].Terms, "an added promotion shows its terms")

	assert.Equal(t, compiler.IDSample{Count: 1, IDs: []string{"cus_5"}}, plan.Customers.Added)
	assert.Equal(t, compiler.IDSample{Count: 1, IDs: []string{"cus_3"}}, plan.Customers.Changed)
	assert.Equal(t, compiler.IDSample{Count: 1, IDs: []string{"growth"}}, plan.Plans.Changed)
	assert.True(t, plan.Features.Empty())
}

// planNow is the clock of the plan cases: half an hour after the last
// grants the change makes.
var planNow = time.Date(2026, 4, 2, 0, 30, 0, 0, time.UTC)

// TestDiffNetGrantEffect: each customer gets the one verb that says where
// the change leaves them against the base, however many edits led there.
func TestDiffNetGrantEffect(t *testing.T) {
	tests := []struct {
		name string
		head func(*testing.T, map[string]string)
		want compiler.GrantChanges
	}{
		{
			name: "granted then revoked on the branch is revoked",
			head: func(t *testing.T, files map[string]string) {
				files[boostFile] += "    - id: cus_3\n      state: revoked\n      granted_at: 2026-04-02T00:00:00Z\n      revoked_at: 2026-04-02T00:10:00Z\n"
			},
			want: compiler.GrantChanges{Revoked: compiler.IDSample{Count: 1, IDs: []string{"cus_3"}}},
		},
		{
			name: "re-granted then revoked again is no change",
			head: editBoost("    - id: cus_2\n      state: revoked\n      granted_at: 2026-03-02T09:00:00Z\n      revoked_at: 2026-03-10T00:00:00Z",
				"    - id: cus_2\n      state: revoked\n      granted_at: 2026-04-02T00:00:00Z\n      revoked_at: 2026-04-02T00:10:00Z\n      previous:\n        - {granted_at: 2026-03-02T09:00:00Z, revoked_at: 2026-03-10T00:00:00Z}"),
			want: compiler.GrantChanges{},
		},
		{
			name: "granted customer revoked",
			head: editBoost("    - id: cus_1\n      state: granted", "    - id: cus_1\n      state: revoked\n      revoked_at: 2026-04-01T00:00:00Z"),
			want: compiler.GrantChanges{Revoked: compiler.IDSample{Count: 1, IDs: []string{"cus_1"}}},
		},
		{
			name: "new customer granted",
			head: func(t *testing.T, files map[string]string) {
				files[boostFile] += "    - id: cus_3\n      state: granted\n      granted_at: 2026-04-02T00:00:00Z\n"
			},
			want: compiler.GrantChanges{Granted: compiler.IDSample{Count: 1, IDs: []string{"cus_3"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := commitCase(t, lockCase{head: tt.head})
			base, err := compiler.OpenRevision(dir, "HEAD~1")
			require.NoError(t, err)
			plan, err := compiler.Diff(os.DirFS(dir), base.FS, compiler.Options{Now: planNow}, "b", "h")
			require.NoError(t, err)
			var got compiler.GrantChanges
			for _, ch := range plan.Promotions {
				if ch.ID == "boost" {
					got = ch.Grants
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDiffStatusAndMoves(t *testing.T) {
	tests := []struct {
		name string
		tc   lockCase
		want compiler.PromotionChange
	}{
		{
			name: "moved unchanged",
			tc: lockCase{head: func(t *testing.T, files map[string]string) {
				files["old/boost.yaml"] = files[boostFile]
				delete(files, boostFile)
			}},
			want: compiler.PromotionChange{ID: "boost", File: "old/boost.yaml", Change: "changed", MovedFrom: boostFile, Applied: true, Fields: []compiler.FieldChange{}},
		},
		{
			name: "reactivated",
			tc: lockCase{
				base: editBoost("status: active", "status: deactivated\ndeactivated_at: 2026-04-01T00:00:00Z", "      state: granted", "      state: revoked\n      revoked_at: 2026-04-01T00:00:00Z"),
				head: editBoost("status: deactivated", "status: active", "deactivated_at: 2026-04-01T00:00:00Z", ""),
			},
			want: compiler.PromotionChange{ID: "boost", File: boostFile, Change: "changed", Status: "reactivated", Applied: true,
				Fields: []compiler.FieldChange{{Field: "deactivated_at", Old: "2026-04-01T00:00:00Z", New: "absent"}, {Field: "status", Old: "deactivated", New: "active"}}},
		},
		{
			name: "deleted draft",
			tc:   lockCase{head: func(t *testing.T, files map[string]string) { delete(files, "promotions/draft.yaml") }},
			want: compiler.PromotionChange{ID: "draft", File: "promotions/draft.yaml", Change: "deleted", Fields: []compiler.FieldChange{}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := commitCase(t, tt.tc)
			base, err := compiler.OpenRevision(dir, "HEAD~1")
			require.NoError(t, err)
			plan, err := compiler.Diff(os.DirFS(dir), base.FS, compiler.Options{}, "b", "h")
			require.NoError(t, err)
			require.Len(t, plan.Promotions, 1)
			assert.Equal(t, tt.want, plan.Promotions[0])
		})
	}
}

func TestIDSampleString(t *testing.T) {
	var s compiler.IDSample
	assert.Equal(t, "0", s.String())
	for _, id := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		s = addID(s, id)
	}
	assert.Equal(t, 7, s.Count)
	assert.Equal(t, "7 (a, b, c, d, e, …)", s.String())
}

func addID(s compiler.IDSample, id string) compiler.IDSample {
	s.Count++
	if len(s.IDs) < compiler.SampleSize {
		s.IDs = append(s.IDs, id)
	}
	return s
}
