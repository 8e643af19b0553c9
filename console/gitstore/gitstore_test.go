package gitstore

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var when = time.Date(2026, 4, 1, 12, 30, 45, 0, time.UTC)

// newRepo makes a repository with one commit on main holding files, and
// returns its directory.
func newRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	require.NoError(t, err)
	wt, err := repo.Worktree()
	require.NoError(t, err)
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
		_, err := wt.Add(name)
		require.NoError(t, err)
	}
	_, err = wt.Commit("initial", &git.CommitOptions{Author: &object.Signature{Name: "Ops", Email: "ops@example.com", When: when}})
	require.NoError(t, err)
	return dir
}

// fileAt reads file in commit.
func fileAt(t *testing.T, r *Repo, commit plumbing.Hash, file string) (string, bool) {
	t.Helper()
	c, err := r.Git().CommitObject(commit)
	require.NoError(t, err)
	f, err := c.File(file)
	if err == object.ErrFileNotFound {
		return "", false
	}
	require.NoError(t, err)
	s, err := f.Contents()
	require.NoError(t, err)
	return s, true
}

// checkoutState is what a commit must not change: the work tree's files,
// the index and HEAD.
func checkoutState(t *testing.T, dir string) map[string]string {
	t.Helper()
	state := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(dir, p)
		if info.IsDir() && rel == filepath.Join(".git", "objects") {
			return filepath.SkipDir
		}
		if info.Mode().IsRegular() && !(filepath.Dir(rel) == filepath.Join(".git", "refs", "heads", "promoctl")) {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			state[rel] = string(data)
		}
		return nil
	}))
	return state
}

func TestCommitMakesABranchWithoutTouchingTheCheckout(t *testing.T) {
	dir := newRepo(t, map[string]string{"promotions/a.yaml": "a: 1\n", "features/f.yaml": "f: 1\n", "README.md": "hi\n"})
	r, err := Open(dir)
	require.NoError(t, err)
	base, err := r.Tip("main")
	require.NoError(t, err)
	before := checkoutState(t, dir)

	branch := r.NewBranchName("grant", "a", when)
	assert.Equal(t, "promoctl/grant-a-20260401-123045", branch)
	hash, err := r.Commit(Commit{Branch: branch, Parent: base, Author: Signature{Name: "Ada", Email: "ada@example.com"},
		Message: "grant a: 1 customer (cus_1)", When: when,
		Files: map[string][]byte{"promotions/a.yaml": []byte("a: 2\n"), "promotions/new/b.yaml": []byte("b: 1\n")}})
	require.NoError(t, err)

	assert.Equal(t, before, checkoutState(t, dir), "work tree, index, HEAD and main are untouched")
	tip, err := r.Tip(branch)
	require.NoError(t, err)
	assert.Equal(t, hash, tip)
	c, err := r.Git().CommitObject(hash)
	require.NoError(t, err)
	assert.Equal(t, "Ada", c.Author.Name)
	assert.Equal(t, "ada@example.com", c.Author.Email)
	assert.Equal(t, "grant a: 1 customer (cus_1)", c.Message)
	assert.Equal(t, []plumbing.Hash{base}, c.ParentHashes)
	for file, want := range map[string]string{"promotions/a.yaml": "a: 2\n", "promotions/new/b.yaml": "b: 1\n", "features/f.yaml": "f: 1\n", "README.md": "hi\n"} {
		got, ok := fileAt(t, r, hash, file)
		require.True(t, ok, file)
		assert.Equal(t, want, got, file)
	}
	// git itself reads the result as a sound repository.
	out, err := exec.Command("git", "-C", dir, "fsck", "--strict").CombinedOutput()
	require.NoError(t, err, string(out))
	out, err = exec.Command("git", "-C", dir, "status", "--porcelain").CombinedOutput()
	require.NoError(t, err)
	assert.Empty(t, string(out), "git status sees no change in the checkout")
}

func TestCommitOnAMovedBranchIsStale(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.yaml": "a: 1\n"})
	r, err := Open(dir)
	require.NoError(t, err)
	base, err := r.Tip("main")
	require.NoError(t, err)
	first, err := r.Commit(Commit{Branch: "promoctl/x", Parent: base, Author: Signature{"A", "a@x"}, Message: "one", Files: map[string][]byte{"a.yaml": []byte("a: 2\n")}})
	require.NoError(t, err)

	_, err = r.Commit(Commit{Branch: "promoctl/x", Parent: base, Author: Signature{"A", "a@x"}, Message: "two", Files: map[string][]byte{"a.yaml": []byte("a: 3\n")}})
	require.ErrorIs(t, err, ErrStale)
	tip, err := r.Tip("promoctl/x")
	require.NoError(t, err)
	assert.Equal(t, first, tip, "the branch did not move")

	second, err := r.Commit(Commit{Branch: "promoctl/x", Parent: first, Author: Signature{"A", "a@x"}, Message: "two", Files: map[string][]byte{"a.yaml": []byte("a: 3\n")}})
	require.NoError(t, err)
	commits, err := r.Commits(second, base, 0)
	require.NoError(t, err)
	require.Len(t, commits, 2)
	assert.Equal(t, "two", commits[0].Message)
	mb, err := r.MergeBase(second, base)
	require.NoError(t, err)
	assert.Equal(t, base, mb)
}

func TestCommitInASubdirectoryConfigRepo(t *testing.T) {
	dir := newRepo(t, map[string]string{"config/promotions/a.yaml": "a: 1\n", "src/main.go": "package main\n"})
	r, err := Open(filepath.Join(dir, "config"))
	require.NoError(t, err)
	assert.Equal(t, "config/", r.Prefix())
	base, err := r.Tip("main")
	require.NoError(t, err)
	blob, err := r.BlobHash(base, "promotions/a.yaml")
	require.NoError(t, err)
	assert.NotEmpty(t, blob)
	missing, err := r.BlobHash(base, "promotions/none.yaml")
	require.NoError(t, err)
	assert.Empty(t, missing)

	hash, err := r.Commit(Commit{Branch: "promoctl/sub", Parent: base, Author: Signature{"A", "a@x"}, Message: "m", Files: map[string][]byte{"promotions/a.yaml": []byte("a: 2\n")}})
	require.NoError(t, err)
	got, ok := fileAt(t, r, hash, "config/promotions/a.yaml")
	require.True(t, ok)
	assert.Equal(t, "a: 2\n", got)
	_, ok = fileAt(t, r, hash, "promotions/a.yaml")
	assert.False(t, ok, "paths are relative to the config repo")
	changed, err := r.BlobHash(hash, "promotions/a.yaml")
	require.NoError(t, err)
	assert.NotEqual(t, blob, changed)
}

func TestCommitRefusesBadInput(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.yaml": "a: 1\n"})
	r, err := Open(dir)
	require.NoError(t, err)
	base, err := r.Tip("main")
	require.NoError(t, err)
	for name, c := range map[string]Commit{
		"no files":       {Branch: "promoctl/x", Parent: base},
		"no branch":      {Parent: base, Files: map[string][]byte{"a.yaml": nil}},
		"escaping path":  {Branch: "promoctl/x", Parent: base, Files: map[string][]byte{"../a.yaml": nil}},
		"file as a dir":  {Branch: "promoctl/x", Parent: base, Files: map[string][]byte{"a.yaml/b.yaml": nil}},
		"invalid branch": {Branch: "promoctl/a..b", Parent: base, Files: map[string][]byte{"a.yaml": nil}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := r.Commit(c)
			require.Error(t, err)
			_, err = r.Tip("promoctl/x")
			require.Error(t, err, "no branch was created")
		})
	}
}

func TestNewBranchNameAvoidsTakenNames(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.yaml": "a: 1\n"})
	r, err := Open(dir)
	require.NoError(t, err)
	base, err := r.Tip("main")
	require.NoError(t, err)
	name := r.NewBranchName("create", "a", when)
	_, err = r.Commit(Commit{Branch: name, Parent: base, Author: Signature{"A", "a@x"}, Message: "m", Files: map[string][]byte{"a.yaml": []byte("x")}})
	require.NoError(t, err)
	assert.Equal(t, name+"-2", r.NewBranchName("create", "a", when))
	branches, err := r.Branches()
	require.NoError(t, err)
	require.Len(t, branches, 1)
	assert.Equal(t, name, branches[0].Name)
}

func TestPushAndFetchWithALocalBareRepository(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.yaml": "a: 1\n"})
	bare := t.TempDir()
	_, err := git.PlainClone(bare, true, &git.CloneOptions{URL: dir})
	require.NoError(t, err)
	r, err := Open(dir)
	require.NoError(t, err)
	_, err = r.Git().CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{bare}})
	require.NoError(t, err)

	// The remote's main moves on: a fetch sees it.
	other := t.TempDir()
	clone, err := git.PlainClone(other, false, &git.CloneOptions{URL: bare})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(other, "b.yaml"), []byte("b: 1\n"), 0o644))
	wt, err := clone.Worktree()
	require.NoError(t, err)
	_, err = wt.Add("b.yaml")
	require.NoError(t, err)
	moved, err := wt.Commit("elsewhere", &git.CommitOptions{Author: &object.Signature{Name: "B", Email: "b@x", When: when}})
	require.NoError(t, err)
	require.NoError(t, clone.Push(&git.PushOptions{}))

	require.NoError(t, r.Fetch("origin", "main"))
	remoteTip, err := r.RemoteTip("origin", "main")
	require.NoError(t, err)
	assert.Equal(t, moved, remoteTip)

	hash, err := r.Commit(Commit{Branch: "promoctl/p", Parent: remoteTip, Author: Signature{"A", "a@x"}, Message: "m", Files: map[string][]byte{"a.yaml": []byte("a: 2\n")}})
	require.NoError(t, err)
	require.NoError(t, r.Push("origin", "promoctl/p"))
	remote, err := git.PlainOpen(bare)
	require.NoError(t, err)
	ref, err := remote.Reference(plumbing.NewBranchReferenceName("promoctl/p"), true)
	require.NoError(t, err)
	assert.Equal(t, hash, ref.Hash())
	url, err := r.RemoteURL("origin")
	require.NoError(t, err)
	assert.Equal(t, bare, url)
}

func TestPullRequestURL(t *testing.T) {
	for _, tc := range []struct{ remote, want string }{
		{"https://github.com/acme/config.git", "https://github.com/acme/config/compare/main...promoctl/grant-a-1?expand=1"},
		{"git@github.com:acme/config.git", "https://github.com/acme/config/compare/main...promoctl/grant-a-1?expand=1"},
		{"ssh://git@github.com/acme/config", "https://github.com/acme/config/compare/main...promoctl/grant-a-1?expand=1"},
		{"https://gitlab.com/acme/team/config.git", "https://gitlab.com/acme/team/config/-/merge_requests/new?merge_request%5Bsource_branch%5D=promoctl%2Fgrant-a-1&merge_request%5Btarget_branch%5D=main"},
		{"https://user:secret@gitlab.example.org/acme/config", "https://gitlab.example.org/acme/config/-/merge_requests/new?merge_request%5Bsource_branch%5D=promoctl%2Fgrant-a-1&merge_request%5Btarget_branch%5D=main"},
		{"https://gitlab.acme.io/acme/config", "https://gitlab.acme.io/acme/config/-/merge_requests/new?merge_request%5Bsource_branch%5D=promoctl%2Fgrant-a-1&merge_request%5Btarget_branch%5D=main"},
		{"/srv/git/config.git", ""},
		{"https://bitbucket.org/acme/config.git", "https://bitbucket.org/acme/config/pull-requests/new?source=promoctl%2Fgrant-a-1&dest=main"},
		{"git@bitbucket.org:acme/config.git", "https://bitbucket.org/acme/config/pull-requests/new?source=promoctl%2Fgrant-a-1&dest=main"},
		{"https://gitea.acme.io/acme/config.git", "https://gitea.acme.io/acme/config/compare/main...promoctl/grant-a-1"},
		{"https://codeberg.org/acme/config", "https://codeberg.org/acme/config/compare/main...promoctl/grant-a-1"},
		{"https://git.acme.io/acme/config.git", ""},
	} {
		t.Run(tc.remote, func(t *testing.T) {
			assert.Equal(t, tc.want, PullRequestURL(tc.remote, "main", "promoctl/grant-a-1"))
		})
	}
}

func TestParseSignature(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Signature
		ok   bool
	}{
		{"Ada Lovelace <ada@example.com>", Signature{"Ada Lovelace", "ada@example.com"}, true},
		{"  Ada <ada@x>  ", Signature{"Ada", "ada@x"}, true},
		{"ada@example.com", Signature{}, false},
		{"<ada@x>", Signature{}, false},
		{"Ada <ada@x> tail", Signature{}, false},
		{"Ada <a<b@x>", Signature{}, false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSignature(tc.in)
			if !tc.ok {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// A checkout with HEAD detached has no current branch: the caller learns
// which commit it is at and words its own way to name a base branch.
func TestCurrentBranchOfADetachedHead(t *testing.T) {
	dir := newRepo(t, map[string]string{"a.yaml": "a: 1\n"})
	g, err := git.PlainOpen(dir)
	require.NoError(t, err)
	head, err := g.Head()
	require.NoError(t, err)
	require.NoError(t, g.Storer.SetReference(plumbing.NewHashReference(plumbing.HEAD, head.Hash())))

	r, err := Open(dir)
	require.NoError(t, err)
	_, err = r.CurrentBranch()
	var detached *DetachedHeadError
	require.ErrorAs(t, err, &detached)
	assert.Equal(t, head.Hash(), detached.Commit)
	assert.Contains(t, err.Error(), "HEAD is detached at "+head.Hash().String())
}
