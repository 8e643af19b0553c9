package history_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/history"
)

// script writes files and commits them with go-git, so tests need no git
// binary.
type script struct {
	t    testing.TB
	dir  string
	repo *git.Repository
	wt   *git.Worktree
	when time.Time
}

func newScript(t testing.TB) *script {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	require.NoError(t, err)
	wt, err := repo.Worktree()
	require.NoError(t, err)
	return &script{t: t, dir: dir, repo: repo, wt: wt, when: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (s *script) write(name, content string) {
	p := filepath.Join(s.dir, filepath.FromSlash(name))
	require.NoError(s.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(s.t, os.WriteFile(p, []byte(content), 0o644))
	_, err := s.wt.Add(name)
	require.NoError(s.t, err)
}

func (s *script) remove(name string) {
	_, err := s.wt.Remove(name)
	require.NoError(s.t, err)
}

func (s *script) commit(author, msg string) string {
	s.when = s.when.Add(time.Hour)
	sig := &object.Signature{Name: author, Email: strings.ToLower(author) + "@example.com", When: s.when}
	h, err := s.wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	require.NoError(s.t, err)
	return h.String()
}

const header = `kind: PromotionalEntitlement
id: trial
name: %s
feature: sso
feature_type: boolean
window:
  start: 2026-03-01T00:00:00Z
duration: {value: 14, unit: days}
is_applied: true
grants:
%s`

func promo(name, grants string) string { return fmt.Sprintf(header, name, grants) }

// history builds: Ada creates the promotion and grants cus_1; Grace
// renames the file and revokes cus_1; Ada bulk-grants 50 customers; Grace
// renews cus_2 after expiry and re-grants cus_1; a commit outside the
// config files; Ada changes the name and deactivates. cus_1's directory
// record changes once.
func buildHistory(t testing.TB) (*script, map[string]string) {
	s := newScript(t)
	h := map[string]string{}
	s.write("customers.yaml", "kind: Customers\ncustomers:\n  - {id: cus_1, plan: starter}\n")
	s.write("promotions/trial.yaml", promo("Trial", "  customers:\n    - id: cus_1\n      state: granted\n      granted_at: 2026-03-02T00:00:00Z\n"))
	h["create"] = s.commit("Ada", "Create the SSO trial\n\nPRD-1")
	s.remove("promotions/trial.yaml")
	s.write("promotions/sso/trial.yaml", promo("Trial", "  customers:\n    - id: cus_1\n      state: revoked\n      granted_at: 2026-03-02T00:00:00Z\n      revoked_at: 2026-03-05T00:00:00Z\n"))
	h["rename"] = s.commit("Grace", "Move the trial and revoke cus_1")
	bulk := "  customers:\n    - id: cus_1\n      state: revoked\n      granted_at: 2026-03-02T00:00:00Z\n      revoked_at: 2026-03-05T00:00:00Z\n"
	for i := 2; i <= 51; i++ {
		bulk += fmt.Sprintf("    - id: cus_%d\n      state: granted\n      granted_at: 2026-03-06T00:00:00Z\n", i)
	}
	s.write("promotions/sso/trial.yaml", promo("Trial", bulk))
	h["bulk"] = s.commit("Ada", "Grant the webinar attendees")
	renewed := strings.Replace(bulk, "    - id: cus_1\n      state: revoked\n      granted_at: 2026-03-02T00:00:00Z\n      revoked_at: 2026-03-05T00:00:00Z\n",
		"    - id: cus_1\n      state: granted\n      granted_at: 2026-04-01T00:00:00Z\n      previous:\n        - {granted_at: 2026-03-02T00:00:00Z, revoked_at: 2026-03-05T00:00:00Z}\n", 1)
	renewed = strings.Replace(renewed, "    - id: cus_2\n      state: granted\n      granted_at: 2026-03-06T00:00:00Z\n",
		"    - id: cus_2\n      state: granted\n      granted_at: 2026-04-01T00:00:00Z\n      previous:\n        - {granted_at: 2026-03-06T00:00:00Z}\n", 1)
	s.write("promotions/sso/trial.yaml", promo("Trial", renewed))
	h["renew"] = s.commit("Grace", "Renew cus_2, re-grant cus_1")
	s.write("README.md", "notes\n")
	h["readme"] = s.commit("Ada", "Notes")
	s.write("customers.yaml", "kind: Customers\ncustomers:\n  - {id: cus_1, plan: growth}\n")
	h["plan"] = s.commit("Grace", "cus_1 upgraded")
	s.write("promotions/sso/trial.yaml", strings.Replace(promo("SSO trial", renewed), "is_applied: true\n", "status: deactivated\ndeactivated_at: 2026-05-01T00:00:00Z\nis_applied: true\n", 1))
	h["deactivate"] = s.commit("Ada", "Stop the trial")
	return s, h
}

func TestPromotionHistory(t *testing.T) {
	s, h := buildHistory(t)
	commits, st, err := history.Walk(s.dir, history.Query{Promotion: "trial"})
	require.NoError(t, err)
	var got []string
	for _, c := range commits {
		got = append(got, c.Hash)
	}
	assert.Equal(t, []string{h["deactivate"], h["renew"], h["bulk"], h["rename"], h["create"]}, got, "newest first; commits that do not change it are left out")
	assert.Equal(t, 7, st.Commits)
	assert.Equal(t, 6, st.Diffed, "the README-only commit is not diffed")

	byHash := map[string]history.Commit{}
	for _, c := range commits {
		byHash[c.Hash] = c
	}
	assert.Equal(t, "Ada", byHash[h["create"]].Author)
	assert.Equal(t, "ada@example.com", byHash[h["create"]].Email)
	assert.Equal(t, "Create the SSO trial", byHash[h["create"]].Subject, "the subject is the first line")
	assert.Equal(t, []history.Change{{Promotion: "trial", Change: history.Created}, {Promotion: "trial", Customer: "cus_1", Change: history.Granted}},
		byHash[h["create"]].Changes)
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "cus_1", Change: history.Revoked}}, byHash[h["rename"]].Changes,
		"a moved file is no change of its own")
	assert.Equal(t, "Grace", byHash[h["rename"]].Author)
	assert.Len(t, byHash[h["bulk"]].Changes, 50, "a bulk grant lists every customer")
	assert.Equal(t, history.Change{Promotion: "trial", Customer: "cus_2", Change: history.Granted}, byHash[h["bulk"]].Changes[0])
	assert.Equal(t, []history.Change{
		{Promotion: "trial", Customer: "cus_1", Change: history.Regranted},
		{Promotion: "trial", Customer: "cus_2", Change: history.Renewed},
	}, byHash[h["renew"]].Changes)
	assert.Equal(t, []history.Change{
		{Promotion: "trial", Change: history.FieldChanged, Field: "name"},
		{Promotion: "trial", Change: history.Deactivated},
	}, byHash[h["deactivate"]].Changes)
}

func TestCustomerHistory(t *testing.T) {
	s, h := buildHistory(t)
	commits, _, err := history.Walk(s.dir, history.Query{Customer: "cus_1"})
	require.NoError(t, err)
	got := map[string][]history.Change{}
	var order []string
	for _, c := range commits {
		got[c.Hash] = c.Changes
		order = append(order, c.Hash)
	}
	assert.Equal(t, []string{h["plan"], h["renew"], h["rename"], h["create"]}, order)
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "cus_1", Change: history.Granted}, {Customer: "cus_1", Change: history.RecordAdded}}, got[h["create"]])
	assert.Equal(t, []history.Change{{Customer: "cus_1", Change: history.RecordChanged, Field: "plan"}}, got[h["plan"]])
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "cus_1", Change: history.Regranted}}, got[h["renew"]])
}

func TestHistorySince(t *testing.T) {
	s, h := buildHistory(t)
	commits, _, err := history.Walk(s.dir, history.Query{Promotion: "trial", Since: h["bulk"]})
	require.NoError(t, err)
	require.Len(t, commits, 2)
	assert.Equal(t, h["deactivate"], commits[0].Hash)
	assert.Equal(t, h["renew"], commits[1].Hash)

	_, _, err = history.Walk(s.dir, history.Query{Promotion: "trial", Since: "nope"})
	var since *history.SinceError
	require.ErrorAs(t, err, &since, "the caller names its own flag (promoctl history --since)")
	assert.Equal(t, "nope", since.Rev)
	assert.NotContains(t, err.Error(), "--")
	_, _, err = history.Walk(s.dir, history.Query{})
	assert.Error(t, err)
}

// A walk can start at another revision and stop after a page of commits.
func TestHistoryFromAndLimit(t *testing.T) {
	s, h := buildHistory(t)
	commits, _, err := history.Walk(s.dir, history.Query{Promotion: "trial", Limit: 1})
	require.NoError(t, err)
	require.Len(t, commits, 1, "the newest commit with a change only")
	assert.Equal(t, h["deactivate"], commits[0].Hash)

	commits, _, err = history.Walk(s.dir, history.Query{Promotion: "trial", From: h["renew"], Limit: 1})
	require.NoError(t, err)
	require.Len(t, commits, 1)
	assert.Equal(t, h["renew"], commits[0].Hash, "the walk starts at From, not at HEAD")

	_, _, err = history.Walk(s.dir, history.Query{Promotion: "trial", From: "nope"})
	assert.ErrorContains(t, err, "resolve nope")
}

// BenchmarkHistory walks a generated history of 3,000 commits over 40
// promotion files (one grant per commit, in a random-looking file) and
// asks for one promotion: only commits that touch a config file are
// diffed, only changed files mentioning the promotion are parsed.
func BenchmarkHistory(b *testing.B) {
	s := newScript(b)
	const files, commits = 40, 3000
	grants := make([]string, files)
	for i := 0; i < commits; i++ {
		f := (i * 7) % files
		grants[f] += fmt.Sprintf("    - id: cus_%05d\n      state: granted\n      granted_at: 2026-03-02T00:00:00Z\n", i)
		s.write(fmt.Sprintf("promotions/p%02d.yaml", f), strings.Replace(promo(fmt.Sprintf("P%d", f), "  customers:\n"+grants[f]), "id: trial", fmt.Sprintf("id: p%02d", f), 1))
		s.commit([]string{"Ada", "Grace"}[i%2], fmt.Sprintf("grant %d", i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, st, err := history.Walk(s.dir, history.Query{Promotion: "p07", MaxCommits: -1})
		require.NoError(b, err)
		require.Len(b, out, commits/files)
		b.ReportMetric(float64(st.Commits), "commits")
		b.ReportMetric(float64(st.Parsed), "parsed")
	}
}
