package compiler_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/require"
)

// gitRepo is a real git repository in a temporary directory, written with
// go-git so that tests need no git binary.
type gitRepo struct {
	t    *testing.T
	dir  string
	repo *git.Repository
	when time.Time
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	require.NoError(t, err)
	return &gitRepo{t: t, dir: dir, repo: repo, when: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

// readTestdata returns the files under testdata/<name> by slash path.
func readTestdata(t testing.TB, name string) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join("testdata", name)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = string(data)
		return nil
	})
	require.NoError(t, err)
	return files
}

// write puts files into the worktree under prefix ("" for the root).
func (g *gitRepo) write(prefix string, files map[string]string) {
	g.t.Helper()
	for name, content := range files {
		p := filepath.Join(g.dir, filepath.FromSlash(prefix), filepath.FromSlash(name))
		require.NoError(g.t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(g.t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func (g *gitRepo) remove(names ...string) {
	g.t.Helper()
	for _, n := range names {
		require.NoError(g.t, os.Remove(filepath.Join(g.dir, filepath.FromSlash(n))))
	}
}

// commit stages every change of the worktree and commits it.
func (g *gitRepo) commit(msg string) string {
	g.t.Helper()
	wt, err := g.repo.Worktree()
	require.NoError(g.t, err)
	require.NoError(g.t, wt.AddWithOptions(&git.AddOptions{All: true}))
	g.when = g.when.Add(time.Hour)
	sig := &object.Signature{Name: "Test", Email: "test@example.com", When: g.when}
	h, err := wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig, AllowEmptyCommits: true})
	require.NoError(g.t, err)
	return h.String()
}

// ref points a reference (refs/remotes/origin/main, refs/tags/v1) at a commit.
func (g *gitRepo) ref(name, commit string) {
	g.t.Helper()
	require.NoError(g.t, g.repo.Storer.SetReference(plumbing.NewHashReference(plumbing.ReferenceName(name), plumbing.NewHash(commit))))
}

// editFile replaces each old line of a file's text (which must occur
// exactly once) with its new text; an empty new text deletes the line.
func editFile(t testing.TB, src string, pairs ...string) string {
	t.Helper()
	require.Zero(t, len(pairs)%2, "editFile takes old/new pairs")
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
