package console

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/console/gitstore"
)

// testNow is the console's clock in tests: inside most example windows.
var testNow = time.Date(2026, 4, 25, 12, 0, 0, 0, time.UTC)

var testAuthor = gitstore.Signature{Name: "Olga Operator", Email: "olga@example.com"}

// fixture is a config repo (examples/acme plus testdata) committed on main
// in a fresh git repository, and a console serving it.
type fixture struct {
	dir      string
	srv      *Server
	ts       *httptest.Server
	git      *git.Repository
	mainTip  plumbing.Hash
	worktree map[string]string
	// mainMoved is set when a test moved main itself (someone merged):
	// the checkout then lags behind main by design.
	mainMoved bool
}

func newFixture(t *testing.T, opts ...func(*Options)) *fixture {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "acme"))))
	extra, err := os.ReadFile(filepath.Join("testdata", "audit-log-beta.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "promotions", "audit-log-beta.yaml"), extra, 0o644))
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	require.NoError(t, err)
	wt, err := repo.Worktree()
	require.NoError(t, err)
	require.NoError(t, wt.AddGlob("."))
	tip, err := wt.Commit("config repo", &git.CommitOptions{Author: &object.Signature{Name: "Setup", Email: "setup@example.com", When: testNow.Add(-24 * time.Hour)}})
	require.NoError(t, err)

	o := Options{Repo: dir, Author: testAuthor, Now: func() time.Time { return testNow }}
	for _, opt := range opts {
		opt(&o)
	}
	srv, err := New(o)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	f := &fixture{dir: dir, srv: srv, ts: ts, git: repo, mainTip: tip}
	f.worktree = f.checkout(t)
	return f
}

// checkout is the work tree's files and the index, keyed by path.
func (f *fixture) checkout(t *testing.T) map[string]string {
	t.Helper()
	state := map[string]string{}
	require.NoError(t, filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		rel, _ := filepath.Rel(f.dir, p)
		if d.IsDir() && rel == ".git" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			state[rel] = string(data)
		}
		return nil
	}))
	index, err := os.ReadFile(filepath.Join(f.dir, ".git", "index"))
	require.NoError(t, err)
	state[".git/index"] = string(index)
	head, err := os.ReadFile(filepath.Join(f.dir, ".git", "HEAD"))
	require.NoError(t, err)
	state[".git/HEAD"] = string(head)
	return state
}

// untouched checks that the console changed neither the checkout (work
// tree, index, HEAD) nor the base branch.
func (f *fixture) untouched(t *testing.T) {
	t.Helper()
	assert.Equal(t, f.worktree, f.checkout(t), "work tree, index and HEAD are untouched")
	tip, err := f.srv.git.Tip("main")
	require.NoError(t, err)
	assert.Equal(t, f.mainTip, tip, "main did not move")
	if f.mainMoved {
		return
	}
	out, err := exec.Command("git", "-C", f.dir, "status", "--porcelain").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Empty(t, string(out), "git status sees no change")
}

// branches lists the console's branches.
func (f *fixture) branches(t *testing.T) []gitstore.Branch {
	t.Helper()
	b, err := f.srv.git.Branches()
	require.NoError(t, err)
	return b
}

// onlyBranch is the one console branch, with its single commit.
func (f *fixture) onlyBranch(t *testing.T) (gitstore.Branch, *object.Commit) {
	t.Helper()
	branches := f.branches(t)
	require.Len(t, branches, 1)
	commits, err := f.srv.git.Commits(branches[0].Tip, f.mainTip, 0)
	require.NoError(t, err)
	require.Len(t, commits, 1, "exactly one commit")
	assert.Equal(t, []plumbing.Hash{f.mainTip}, commits[0].ParentHashes, "branched from main")
	return branches[0], commits[0]
}

// fileOn reads a file on a branch.
func (f *fixture) fileOn(t *testing.T, branch, file string) string {
	t.Helper()
	tip, err := f.srv.git.Tip(branch)
	require.NoError(t, err)
	fsys, err := f.srv.git.FS(tip)
	require.NoError(t, err)
	data, err := fs.ReadFile(fsys, file)
	require.NoError(t, err)
	return string(data)
}

// validates checks that a branch passes validate against main, lock included.
func (f *fixture) validates(t *testing.T, branch string) {
	t.Helper()
	tip, err := f.srv.git.Tip(branch)
	require.NoError(t, err)
	head, err := f.srv.git.FS(tip)
	require.NoError(t, err)
	base, err := f.srv.git.FS(f.mainTip)
	require.NoError(t, err)
	res, err := compiler.LoadWithBase(head, base, compiler.Options{})
	require.NoError(t, err)
	require.True(t, res.OK(), "%v", res.Diagnostics)
}

// blob is the hash of a file on main, as forms carry it.
func (f *fixture) blob(t *testing.T, file string) string {
	t.Helper()
	h, err := f.srv.git.BlobHash(f.mainTip, file)
	require.NoError(t, err)
	return h
}

// client does not follow redirects, so tests see them.
func (f *fixture) client() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := f.client().Get(f.ts.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// post sends a form as the console's own page would (same origin).
func (f *fixture) post(t *testing.T, path string, form url.Values, headers ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.ts.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := f.client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// gitstoreCommit is a commit of one file on a new branch from main.
func gitstoreCommit(f *fixture, branch, file, content string) gitstore.Commit {
	return gitstore.Commit{Branch: branch, Parent: f.mainTip, Files: map[string][]byte{file: []byte(content)},
		Author: gitstore.Signature{Name: "Hand", Email: "hand@example.com"}, Message: "by hand", When: testNow}
}
