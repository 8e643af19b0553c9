package history_test

import (
	"path"
	"sort"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/history"
)

// objects writes commits of whole trees straight into a repository, so a
// test can make merges and entries a worktree cannot (a gitlink).
type objects struct {
	t    testing.TB
	dir  string
	repo *git.Repository
	when time.Time
}

func newObjects(t testing.TB) *objects {
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	require.NoError(t, err)
	return &objects{t: t, dir: dir, repo: repo, when: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// entry is a file of a tree: content for a blob, or a gitlink's commit.
type entry struct {
	content string
	gitlink plumbing.Hash
}

// tree writes the tree of files (slash-separated paths) and returns its
// hash.
func (o *objects) tree(files map[string]entry) plumbing.Hash {
	dirs := map[string]map[string]entry{}
	var own []object.TreeEntry
	for name, e := range files {
		if dir, rest, ok := strings.Cut(name, "/"); ok {
			if dirs[dir] == nil {
				dirs[dir] = map[string]entry{}
			}
			dirs[dir][rest] = e
			continue
		}
		if !e.gitlink.IsZero() {
			own = append(own, object.TreeEntry{Name: name, Mode: filemode.Submodule, Hash: e.gitlink})
			continue
		}
		own = append(own, object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: writeBlob(o.t, o.repo.Storer, []byte(e.content))})
	}
	for dir, sub := range dirs {
		own = append(own, object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: o.tree(sub)})
	}
	sort.Slice(own, func(i, j int) bool { return treeKey(own[i]) < treeKey(own[j]) })
	return writeTree(o.t, o.repo.Storer, own)
}

// treeKey orders entries as git does: a directory sorts as its name
// followed by a slash.
func treeKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return path.Clean(e.Name)
}

func (o *objects) commit(author, msg string, files map[string]entry, parents ...plumbing.Hash) plumbing.Hash {
	o.when = o.when.Add(time.Hour)
	sig := object.Signature{Name: author, Email: strings.ToLower(author) + "@example.com", When: o.when}
	h := writeObject(o.t, o.repo.Storer, &object.Commit{Author: sig, Committer: sig, Message: msg, TreeHash: o.tree(files), ParentHashes: parents})
	require.NoError(o.t, o.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), h)))
	require.NoError(o.t, o.repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))))
	return h
}

func granted(ids ...string) entry {
	g := "  customers:\n"
	for _, id := range ids {
		g += "    - id: " + id + "\n      state: granted\n      granted_at: 2026-03-02T00:00:00Z\n"
	}
	return entry{content: promo("Trial", g)}
}

// TestMergeCommitChanges: two branches grant cus_2 and cus_3 in the same
// file; the merge that resolves the conflict also grants cus_4. The merge
// is reported with that grant alone (cus_2 and cus_3 belong to their own
// commits); a clean merge that takes one side's file reports nothing.
func TestMergeCommitChanges(t *testing.T) {
	o := newObjects(t)
	customers := entry{content: "kind: Customers\ncustomers:\n  - {id: cus_1, plan: starter}\n"}
	base := o.commit("Ada", "create", map[string]entry{"customers.yaml": customers, "promotions/trial.yaml": granted("cus_1")})
	side := o.commit("Grace", "grant cus_2", map[string]entry{"customers.yaml": customers, "promotions/trial.yaml": granted("cus_1", "cus_2")}, base)
	main := o.commit("Ada", "grant cus_3", map[string]entry{"customers.yaml": customers, "promotions/trial.yaml": granted("cus_1", "cus_3")}, base)
	merge := o.commit("Ada", "Merge side", map[string]entry{"customers.yaml": customers, "promotions/trial.yaml": granted("cus_1", "cus_2", "cus_3", "cus_4")}, main, side)
	docs := o.commit("Grace", "notes", map[string]entry{"customers.yaml": customers, "promotions/trial.yaml": granted("cus_1"), "README.md": {content: "notes\n"}}, base)
	clean := o.commit("Ada", "Merge notes", map[string]entry{"customers.yaml": customers, "promotions/trial.yaml": granted("cus_1", "cus_2", "cus_3", "cus_4"),
		"README.md": {content: "notes\n"}}, merge, docs)

	commits, _, err := history.Walk(o.dir, history.Query{Promotion: "trial"})
	require.NoError(t, err)
	byHash := map[string]history.Commit{}
	for _, c := range commits {
		byHash[c.Hash] = c
	}
	require.Contains(t, byHash, merge.String(), "the merge made a change")
	assert.True(t, byHash[merge.String()].Merge)
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "cus_4", Change: history.Granted}}, byHash[merge.String()].Changes)
	assert.NotContains(t, byHash, clean.String(), "a clean merge changes nothing of its own")
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "cus_2", Change: history.Granted}}, byHash[side.String()].Changes)
	assert.Equal(t, []history.Change{{Promotion: "trial", Customer: "cus_3", Change: history.Granted}}, byHash[main.String()].Changes)

	for customer, want := range map[string][]string{"cus_4": {merge.String()}, "cus_2": {side.String()}} {
		commits, _, err := history.Walk(o.dir, history.Query{Customer: customer})
		require.NoError(t, err)
		var got []string
		for _, c := range commits {
			got = append(got, c.Hash)
		}
		assert.Equal(t, want, got, customer)
	}
}

// TestGitlinksAreSkipped: a submodule entry named like a config file is
// no file to read; every history query still answers.
func TestGitlinksAreSkipped(t *testing.T) {
	o := newObjects(t)
	first := o.commit("Ada", "create", map[string]entry{"promotions/trial.yaml": granted("cus_1")})
	o.commit("Ada", "add a submodule", map[string]entry{"promotions/trial.yaml": granted("cus_1", "cus_2"),
		"promotions/sub.yaml": {gitlink: plumbing.NewHash("1234567890123456789012345678901234567890")}}, first)
	for _, q := range []history.Query{{Promotion: "trial"}, {Customer: "cus_2"}, {Promotion: "sub"}} {
		commits, _, err := history.Walk(o.dir, q)
		require.NoError(t, err, "%+v", q)
		if q.Customer != "" {
			require.Len(t, commits, 1)
		}
	}
}
