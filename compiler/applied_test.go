package compiler_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/promotions"
)

const boostFile = "promotions/boost.yaml"

// lockCase is a change to testdata/applied, committed on top of it in a real
// git repository and loaded against HEAD~1.
type lockCase struct {
	name string
	base func(t *testing.T, files map[string]string) // optional change to the base itself
	head func(t *testing.T, files map[string]string)
	// want lists the lock diagnostics as "file:line:col CODE path".
	want []string
	// valid says the head must pass validation as a whole.
	valid bool
}

func editBoost(pairs ...string) func(*testing.T, map[string]string) {
	return func(t *testing.T, files map[string]string) {
		files[boostFile] = editFile(t, files[boostFile], pairs...)
	}
}

// commitCase builds the repo: base commit, then the head commit, and
// returns the repo directory.
func commitCase(t *testing.T, tc lockCase) string {
	t.Helper()
	files := readTestdata(t, "applied")
	if tc.base != nil {
		tc.base(t, files)
	}
	g := newGitRepo(t)
	g.write("", files)
	g.commit("base")
	head := make(map[string]string, len(files))
	for k, v := range files {
		head[k] = v
	}
	if tc.head != nil {
		tc.head(t, head)
	}
	for name := range files {
		if _, ok := head[name]; !ok {
			g.remove(name)
		}
	}
	g.write("", head)
	g.commit("head")
	return g.dir
}

func loadCase(t *testing.T, dir string) *compiler.Result {
	t.Helper()
	base, err := compiler.OpenRevision(dir, "HEAD~1")
	require.NoError(t, err)
	res, err := compiler.LoadWithBase(os.DirFS(dir), base.FS, compiler.Options{})
	require.NoError(t, err)
	return res
}

func isLockCode(c promotions.Code) bool {
	switch c {
	case promotions.CodeLockedField, promotions.CodeAppliedUnlocked, promotions.CodeAppliedDeleted, promotions.CodeGrantRemoved, promotions.CodeGrantHistoryChanged:
		return true
	}
	return false
}

func lockDiagnostics(res *compiler.Result) []string {
	out := []string{}
	for _, d := range res.Diagnostics {
		if isLockCode(d.Code) {
			out = append(out, fmt.Sprintf("%s:%d:%d %s %s", d.File, d.Line, d.Column, d.Code, d.Path))
		}
	}
	return out
}

func TestLoadWithBase(t *testing.T) {
	tests := []lockCase{
		{name: "no change", valid: true},
		{
			name:  "safe fields of an applied promotion",
			valid: true,
			head: editBoost(
				"name: Boost", "name: Bigger boost",
				"description: Extra API calls", "description: Extra API calls for spring",
				"    - id: cus_1", "    - id: cus_3\n      state: granted\n      granted_at: 2026-04-01T00:00:00Z\n    - id: cus_1",
			),
		},
		{
			name:  "deactivating an applied promotion",
			valid: true,
			head: editBoost(
				"status: active", "status: deactivated\ndeactivated_at: 2026-04-01T00:00:00Z",
				"      state: granted", "      state: revoked\n      revoked_at: 2026-04-01T00:00:00Z",
			),
		},
		{
			name:  "same instants in another offset",
			valid: true,
			head:  editBoost("  start: 2026-03-01T00:00:00Z", "  start: 2026-03-01T01:00:00+01:00", "  plans: [starter, growth]", "  plans: [growth, starter]"),
		},
		{
			name:  "a promotion that is not applied may change",
			valid: true,
			head: func(t *testing.T, files map[string]string) {
				files["promotions/draft.yaml"] = editFile(t, files["promotions/draft.yaml"],
					"feature: sso", "feature: api_calls",
					"feature_type: boolean", "feature_type: metered\nmetered: {mode: override, allowance: 50, reset: daily}",
					"  start: 2026-04-01T00:00:00Z", "  start: 2026-05-01T00:00:00Z\n  end: 2026-07-01T00:00:00Z",
					"  unit: weeks", "  unit: days",
				)
			},
		},
		{
			name:  "moving an applied promotion's file",
			valid: true,
			head: func(t *testing.T, files map[string]string) {
				files["promotions/2026/spring/boost.yaml"] = files[boostFile]
				delete(files, boostFile)
			},
		},
		{
			name: "moving and changing an applied promotion",
			head: func(t *testing.T, files map[string]string) {
				files["campaigns/boost.yaml"] = editFile(t, files[boostFile], "  allowance: 5000", "  allowance: 8000")
				delete(files, boostFile)
			},
			want: []string{"campaigns/boost.yaml:16:14 LOCKED_FIELD metered.allowance"},
		},
		{
			name: "usage added to a feature an applied promotion is for",
			head: func(t *testing.T, files map[string]string) {
				files["features/api_calls.yaml"] += "usage:\n  on_store_failure: deny\n"
			},
			want: []string{"features/api_calls.yaml:6:1 LOCKED_FIELD usage"},
		},
		{
			name: "usage changed",
			base: func(t *testing.T, files map[string]string) {
				files["features/api_calls.yaml"] += "usage: {overage: block}\n"
			},
			head: func(t *testing.T, files map[string]string) {
				files["features/api_calls.yaml"] = editFile(t, files["features/api_calls.yaml"], "usage: {overage: block}", "usage: {overage: soft}")
			},
			want: []string{"features/api_calls.yaml:6:1 LOCKED_FIELD usage"},
		},
		{
			name: "usage removed",
			base: func(t *testing.T, files map[string]string) {
				files["features/api_calls.yaml"] += "usage: {overage: block}\n"
			},
			head: func(t *testing.T, files map[string]string) {
				files["features/api_calls.yaml"] = editFile(t, files["features/api_calls.yaml"], "usage: {overage: block}", "")
			},
			want: []string{"features/api_calls.yaml:1:1 LOCKED_FIELD usage"},
		},
		{
			name:  "usage of a feature no applied promotion is for may change",
			valid: true,
			base: func(t *testing.T, files map[string]string) {
				files["features/credits.yaml"] = "kind: Feature\nkey: credits\nname: Credits\ntype: metered\n"
			},
			head: func(t *testing.T, files map[string]string) {
				files["features/credits.yaml"] += "usage: {overage: soft, on_store_failure: deny}\n"
			},
		},
		{
			name: "feature changed",
			head: func(t *testing.T, files map[string]string) {
				files["features/credits.yaml"] = "kind: Feature\nkey: credits\nname: Credits\ntype: metered\n"
				files[boostFile] = editFile(t, files[boostFile], "feature: api_calls", "feature: credits")
			},
			want: []string{"promotions/boost.yaml:6:10 LOCKED_FIELD feature"},
		},
		{
			name: "feature_type changed (the head is also invalid)",
			head: editBoost("feature_type: metered", "feature_type: boolean"),
			want: []string{"promotions/boost.yaml:7:15 LOCKED_FIELD feature_type"},
		},
		{
			name: "window.start changed",
			head: editBoost("  start: 2026-03-01T00:00:00Z", "  start: 2026-02-01T00:00:00Z"),
			want: []string{"promotions/boost.yaml:9:10 LOCKED_FIELD window.start"},
		},
		{
			name: "window.end removed",
			head: editBoost("  end: 2026-06-01T00:00:00Z", ""),
			want: []string{"promotions/boost.yaml:8:1 LOCKED_FIELD window.end"},
		},
		{
			name: "window removed",
			head: editBoost("window:", "", "  start: 2026-03-01T00:00:00Z", "", "  end: 2026-06-01T00:00:00Z", ""),
			want: []string{"promotions/boost.yaml:1:1 LOCKED_FIELD window"},
		},
		{
			name: "window.end added",
			base: editBoost("  end: 2026-06-01T00:00:00Z", ""),
			head: editBoost("  start: 2026-03-01T00:00:00Z", "  start: 2026-03-01T00:00:00Z\n  end: 2026-06-01T00:00:00Z"),
			want: []string{"promotions/boost.yaml:10:8 LOCKED_FIELD window.end"},
		},
		{
			name: "duration.value changed",
			head: editBoost("  value: 3", "  value: 4"),
			want: []string{"promotions/boost.yaml:12:10 LOCKED_FIELD duration.value"},
		},
		{
			name: "duration.unit changed",
			head: editBoost("  unit: months", "  unit: weeks"),
			want: []string{"promotions/boost.yaml:13:9 LOCKED_FIELD duration.unit"},
		},
		{
			name: "duration removed",
			head: editBoost("duration:", "", "  value: 3", "", "  unit: months", ""),
			want: []string{"promotions/boost.yaml:1:1 LOCKED_FIELD duration"},
		},
		{
			name: "duration added",
			base: editBoost("duration:", "", "  value: 3", "", "  unit: months", ""),
			head: editBoost("status: active", "status: active\nduration: {value: 3, unit: months}"),
			want: []string{"promotions/boost.yaml:6:1 LOCKED_FIELD duration"},
		},
		{
			name: "metered.mode changed",
			head: editBoost("  mode: additive", "  mode: override"),
			want: []string{"promotions/boost.yaml:15:9 LOCKED_FIELD metered.mode"},
		},
		{
			name: "metered.allowance changed",
			head: editBoost("  allowance: 5000", "  allowance: 8000"),
			want: []string{"promotions/boost.yaml:16:14 LOCKED_FIELD metered.allowance"},
		},
		{
			name: "metered.reset changed",
			head: editBoost("  reset: monthly", "  reset: weekly"),
			want: []string{"promotions/boost.yaml:17:10 LOCKED_FIELD metered.reset"},
		},
		{
			name: "metered removed (the head is also invalid)",
			head: editBoost("metered:", "", "  mode: additive", "", "  allowance: 5000", "", "  reset: monthly", ""),
			want: []string{"promotions/boost.yaml:1:1 LOCKED_FIELD metered"},
		},
		{
			name: "eligibility.plans changed",
			head: editBoost("  plans: [starter, growth]", "  plans: [growth]"),
			want: []string{"promotions/boost.yaml:19:10 LOCKED_FIELD eligibility.plans"},
		},
		{
			name: "eligibility.plans added",
			base: editBoost("  plans: [starter, growth]", ""),
			head: editBoost("eligibility:", "eligibility:\n  plans: [starter, growth]"),
			want: []string{"promotions/boost.yaml:19:10 LOCKED_FIELD eligibility.plans"},
		},
		{
			name: "eligibility attribute values changed",
			head: editBoost("  attributes: {region: [eu, us]}", "  attributes: {region: [eu]}"),
			want: []string{"promotions/boost.yaml:20:24 LOCKED_FIELD eligibility.attributes.region"},
		},
		{
			name: "eligibility removed",
			head: editBoost("eligibility:", "", "  plans: [starter, growth]", "", "  attributes: {region: [eu, us]}", ""),
			want: []string{"promotions/boost.yaml:1:1 LOCKED_FIELD eligibility"},
		},
		{
			name: "is_applied back to false (NOT_APPLIED too)",
			head: editBoost("is_applied: true", "is_applied: false"),
			want: []string{"promotions/boost.yaml:21:13 APPLIED_UNLOCKED is_applied"},
		},
		{
			name: "applied promotion deleted",
			head: func(t *testing.T, files map[string]string) { delete(files, boostFile) },
			want: []string{"promotions/boost.yaml:2:5 APPLIED_DELETED id"},
		},
		{
			name: "applied promotion's id renamed",
			head: editBoost("id: boost", "id: boost-2026"),
			want: []string{"promotions/boost.yaml:2:5 APPLIED_DELETED id"},
		},
		{
			name:  "draft promotion deleted",
			valid: true,
			head:  func(t *testing.T, files map[string]string) { delete(files, "promotions/draft.yaml") },
		},
		{
			name: "customer entry removed",
			head: editBoost(
				"    - id: cus_2", "",
				"      state: revoked", "",
				"      granted_at: 2026-03-02T09:00:00Z\n      revoked_at: 2026-03-10T00:00:00Z", "",
			),
			want: []string{"promotions/boost.yaml:24:5 GRANT_REMOVED grants.customers"},
		},
		{
			name: "every customer entry removed",
			head: func(t *testing.T, files map[string]string) {
				src := files[boostFile]
				files[boostFile] = src[:len(src)-len(src[indexOf(t, src, "grants:\n"):])]
			},
			want: []string{
				"promotions/boost.yaml:1:1 GRANT_REMOVED grants.customers",
				"promotions/boost.yaml:1:1 GRANT_REMOVED grants.customers",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := loadCase(t, commitCase(t, tc))
			want := tc.want
			if want == nil {
				want = []string{}
			}
			assert.Equal(t, want, lockDiagnostics(res))
			if tc.valid {
				assert.True(t, res.OK(), "diagnostics: %v", res.Diagnostics)
			} else {
				assert.False(t, res.OK())
			}
		})
	}
}

func indexOf(t *testing.T, s, sub string) int {
	t.Helper()
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	t.Fatalf("%q not found", sub)
	return -1
}

func TestLoadWithBaseMessages(t *testing.T) {
	tests := []struct {
		name string
		tc   lockCase
		want string
	}{
		{
			name: "locked field names base and head",
			tc:   lockCase{head: editBoost("  allowance: 5000", "  allowance: 8000")},
			want: "promotions/boost.yaml:16:14: LOCKED_FIELD: metered.allowance is locked because boost is applied (base 5000, head 8000); only name, description, status and grants may change",
		},
		{
			name: "deleted points at the base file",
			tc:   lockCase{head: func(t *testing.T, files map[string]string) { delete(files, boostFile) }},
			want: "promotions/boost.yaml:2:5: APPLIED_DELETED: promotion boost is applied in the base (this position is in the base revision's promotions/boost.yaml) but missing from the head: it was deleted or its id changed; applied promotions stay, deactivate it instead",
		},
		{
			name: "grant removed names the customer",
			tc: lockCase{head: editBoost(
				"    - id: cus_1", "", "      state: granted", "", "      granted_at: 2026-03-02T09:00:00Z\n    - id: cus_2", "    - id: cus_2",
			)},
			want: "promotions/boost.yaml:24:5: GRANT_REMOVED: customer cus_1 (granted since 2026-03-02T09:00:00Z in the base) was removed from grants.customers of boost; revoke it instead (state: revoked, revoked_at): the file is the audit trail",
		},
		{
			name: "unlocked",
			tc:   lockCase{head: editBoost("is_applied: true", "")},
			want: "promotions/boost.yaml:1:1: APPLIED_UNLOCKED: boost is applied in the base, so is_applied must stay true (found absent); deactivate it instead",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := loadCase(t, commitCase(t, tt.tc))
			var got []string
			for _, d := range res.Diagnostics {
				if isLockCode(d.Code) {
					got = append(got, d.String())
				}
			}
			assert.Equal(t, []string{tt.want}, got)
		})
	}
}

// The eligibility rule counts only grants that are new relative to the
// base: an old grant whose customer became ineligible is a warning.
func TestLoadWithBasePassesTheBaseModel(t *testing.T) {
	dir := commitCase(t, lockCase{head: func(t *testing.T, files map[string]string) {
		files["customers/customers.yaml"] = editFile(t, files["customers/customers.yaml"], "    attributes: {region: eu}\n  - id: cus_2", "    attributes: {region: apac}\n  - id: cus_2")
	}})
	res := loadCase(t, dir)
	require.True(t, res.OK(), "%v", res.Diagnostics)
	var codes []string
	for _, d := range res.Diagnostics {
		codes = append(codes, string(d.Severity)+" "+string(d.Code))
	}
	assert.Equal(t, []string{"warning INELIGIBLE_CUSTOMER"}, codes)

	plain, err := compiler.Load(os.DirFS(dir), compiler.Options{})
	require.NoError(t, err)
	assert.False(t, plain.OK(), "without a base every grant counts as new")
}

// --base-dir and --base REV read the same tree and must agree.
func TestLoadWithBaseDirEquivalence(t *testing.T) {
	tc := lockCase{head: editBoost("  allowance: 5000", "  allowance: 8000", "is_applied: true", "is_applied: false")}
	dir := commitCase(t, tc)
	fromGit := loadCase(t, dir)

	baseDir := t.TempDir()
	files := readTestdata(t, "applied")
	for name, content := range files {
		p := filepath.Join(baseDir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	fromDir, err := compiler.LoadWithBase(os.DirFS(dir), os.DirFS(baseDir), compiler.Options{})
	require.NoError(t, err)
	assert.Equal(t, fromGit.Diagnostics, fromDir.Diagnostics)
	assert.Len(t, lockDiagnostics(fromDir), 2)
}

func TestLoadWithBaseKeepsDiagnosticsSorted(t *testing.T) {
	res := loadCase(t, commitCase(t, lockCase{head: editBoost("  reset: monthly", "  reset: weekly", "  allowance: 5000", "  allowance: 1")}))
	lines := []int{}
	for _, d := range res.Diagnostics {
		lines = append(lines, d.Line)
	}
	assert.True(t, sort.IntsAreSorted(lines), "%v", lines)
}

func BenchmarkLoadWithBase(b *testing.B) {
	files := readTestdata(b, "applied")
	base, head := b.TempDir(), b.TempDir()
	for name, content := range files {
		for i, root := range []string{base, head} {
			if i == 1 && name == boostFile {
				content = editFile(b, content, "  allowance: 5000", "  allowance: 8000")
			}
			p := filepath.Join(root, filepath.FromSlash(name))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := compiler.LoadWithBase(os.DirFS(head), os.DirFS(base), compiler.Options{})
		if err != nil || len(lockDiagnostics(res)) != 1 {
			b.Fatalf("unexpected result: %v %v", err, res)
		}
	}
}
