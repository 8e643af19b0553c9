package compiler_test

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"testing/fstest"

	git "github.com/go-git/go-git/v5"
	gitconfig "github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
)

// twoCommits makes a repo whose config lives in config/: the first commit
// has v1 of a file, the second v2, plus a file outside config/.
func twoCommits(t *testing.T) (*gitRepo, string, string) {
	g := newGitRepo(t)
	g.write("config", map[string]string{"a.yaml": "v1\n", "sub/b.yaml": "b\n"})
	first := g.commit("first")
	g.write("config", map[string]string{"a.yaml": "v2\n"})
	g.write("", map[string]string{"README.md": "outside\n"})
	second := g.commit("second")
	return g, first, second
}

func readA(t *testing.T, fsys fs.FS) string {
	t.Helper()
	data, err := fs.ReadFile(fsys, "a.yaml")
	require.NoError(t, err)
	return string(data)
}

func TestOpenRevisionResolves(t *testing.T) {
	g, first, second := twoCommits(t)
	g.ref("refs/remotes/origin/main", first)
	g.ref("refs/tags/v1", first)
	tagHash, err := g.repo.CreateTag("v1-annotated", plumbing.NewHash(first), &git.CreateTagOptions{
		Message: "annotated", Tagger: &object.Signature{Name: "T", Email: "t@example.com", When: g.when},
	})
	require.NoError(t, err)
	require.NotEqual(t, first, tagHash.Hash().String())
	g.ref("refs/heads/feature", second)

	config := filepath.Join(g.dir, "config")
	tests := []struct {
		rev, want, commit string
	}{
		{"HEAD", "v2\n", second},
		{"HEAD~1", "v1\n", first},
		{"origin/main", "v1\n", first},
		{"v1", "v1\n", first},
		{"v1-annotated", "v1\n", first},
		{"feature", "v2\n", second},
		{first, "v1\n", first},
		{first[:8], "v1\n", first},
	}
	for _, tt := range tests {
		t.Run(tt.rev, func(t *testing.T) {
			base, err := compiler.OpenRevision(config, tt.rev)
			require.NoError(t, err)
			assert.Equal(t, tt.want, readA(t, base.FS))
			assert.Equal(t, tt.commit, base.Commit)
			assert.Equal(t, tt.rev, base.Rev)
		})
	}
}

func TestOpenRevisionServesTheSubdirectory(t *testing.T) {
	g, _, _ := twoCommits(t)
	base, err := compiler.OpenRevision(filepath.Join(g.dir, "config"), "HEAD")
	require.NoError(t, err)
	require.NoError(t, fstest.TestFS(base.FS, "a.yaml", "sub/b.yaml"))
	_, err = fs.Stat(base.FS, "README.md")
	assert.ErrorIs(t, err, fs.ErrNotExist)

	root, err := compiler.OpenRevision(g.dir, "HEAD")
	require.NoError(t, err)
	require.NoError(t, fstest.TestFS(root.FS, "README.md", "config/a.yaml", "config/sub/b.yaml"))
}

func TestOpenRevisionMissingConfigDirIsEmpty(t *testing.T) {
	g := newGitRepo(t)
	g.write("", map[string]string{"README.md": "x\n"})
	g.commit("before config existed")
	g.write("config", map[string]string{"a.yaml": "v1\n"})
	g.commit("add config")
	base, err := compiler.OpenRevision(filepath.Join(g.dir, "config"), "HEAD~1")
	require.NoError(t, err)
	files, err := compiler.ConfigFiles(base.FS)
	require.NoError(t, err)
	assert.Empty(t, files)
}

func TestOpenRevisionFollowsSymlinks(t *testing.T) {
	g := newGitRepo(t)
	g.write("", map[string]string{"data/a.yaml": "v1\n", "data/x/c.yaml": "c\n"})
	require.NoError(t, os.Symlink("data", filepath.Join(g.dir, "current")))
	require.NoError(t, os.Symlink("../outside", filepath.Join(g.dir, "escape")))
	require.NoError(t, os.Symlink("x/c.yaml", filepath.Join(g.dir, "data", "link.yaml")))
	g.commit("links")
	base, err := compiler.OpenRevision(g.dir, "HEAD")
	require.NoError(t, err)

	assert.Equal(t, "v1\n", readA(t, mustSub(t, base.FS, "current")))
	data, err := fs.ReadFile(base.FS, "current/link.yaml")
	require.NoError(t, err)
	assert.Equal(t, "c\n", string(data))
	_, err = fs.Stat(base.FS, "escape")
	assert.ErrorIs(t, err, fs.ErrNotExist)

	files, err := compiler.ConfigFiles(base.FS)
	require.NoError(t, err)
	assert.Equal(t, []string{"current/a.yaml", "current/link.yaml", "current/x/c.yaml", "data/a.yaml", "data/link.yaml", "data/x/c.yaml"}, files)
}

func mustSub(t *testing.T, fsys fs.FS, dir string) fs.FS {
	t.Helper()
	sub, err := fs.Sub(fsys, dir)
	require.NoError(t, err)
	return sub
}

// A base that is not in the clone is reported with what the repository
// has, for the caller to say how to get it (cmd/promoctl's
// TestBaseNotFoundHint holds the wording).
func TestOpenRevisionNotFound(t *testing.T) {
	tests := []struct {
		name            string
		remote          bool // the clone has a remote named origin
		shallow         bool // and its history is cut
		rev             string
		relative        bool
		fetch           bool
		remoteName, ref string
	}{
		{name: "branch of a remote", remote: true, rev: "origin/main", fetch: true, remoteName: "origin", ref: "main"},
		{name: "local branch name, remote exists", remote: true, rev: "no-such-branch", fetch: true, remoteName: "origin", ref: "no-such-branch"},
		{name: "no remote", rev: "origin/main"},
		{name: "sha without remote", rev: "0123456789abcdef0123456789abcdef01234567"},
		{name: "relative, full history", remote: true, rev: "HEAD~5", relative: true, fetch: true, remoteName: "origin", ref: "HEAD~5"},
		{name: "relative, shallow clone", remote: true, shallow: true, rev: "HEAD~5", relative: true, fetch: true, remoteName: "origin", ref: "HEAD~5"},
		{name: "relative, shallow without remote", shallow: true, rev: "HEAD^^^^^", relative: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, first, _ := twoCommits(t)
			if tt.remote {
				_, err := g.repo.CreateRemote(&gitconfig.RemoteConfig{Name: "origin", URLs: []string{"https://example.com/config.git"}})
				require.NoError(t, err)
			}
			if tt.shallow {
				require.NoError(t, os.WriteFile(filepath.Join(g.dir, ".git", "shallow"), []byte(first+"\n"), 0o644))
			}
			_, err := compiler.OpenRevision(g.dir, tt.rev)
			var nf *compiler.BaseNotFoundError
			require.True(t, errors.As(err, &nf), "got %v", err)
			assert.Equal(t, tt.rev, nf.Rev)
			assert.Equal(t, tt.shallow, nf.Shallow)
			assert.Equal(t, tt.relative, nf.Relative())
			remote, ref, ok := nf.Fetch()
			assert.Equal(t, tt.fetch, ok)
			assert.Equal(t, tt.remoteName, remote)
			assert.Equal(t, tt.ref, ref)
			assert.Contains(t, err.Error(), "base revision \""+tt.rev+"\" is not in this clone")
			assert.NotContains(t, err.Error(), "--", "the caller names its own flags")
		})
	}
}

func TestOpenRevisionNotARepository(t *testing.T) {
	_, err := compiler.OpenRevision(t.TempDir(), "HEAD")
	require.Error(t, err)
	var nf *compiler.BaseNotFoundError
	assert.False(t, errors.As(err, &nf))
	var noRepo *compiler.NoRepositoryError
	require.ErrorAs(t, err, &noRepo, "the caller offers --base-dir")
	assert.NotContains(t, err.Error(), "--")
}

func TestOpenRevisionBareAndLinkedWorktree(t *testing.T) {
	g, first, _ := twoCommits(t)

	bareDir := filepath.Join(t.TempDir(), "bare.git")
	_, err := git.PlainClone(bareDir, true, &git.CloneOptions{URL: g.dir})
	require.NoError(t, err)
	bare, err := compiler.OpenRevision(bareDir, "HEAD~1")
	require.NoError(t, err)
	assert.Equal(t, "v1\n", readA(t, mustSub(t, bare.FS, "config")))

	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git binary to make a linked worktree")
	}
	linked := filepath.Join(t.TempDir(), "linked")
	out, err := exec.Command("git", "-C", g.dir, "worktree", "add", "--detach", linked, first).CombinedOutput()
	require.NoError(t, err, string(out))
	wt, err := compiler.OpenRevision(filepath.Join(linked, "config"), "HEAD")
	require.NoError(t, err)
	assert.Equal(t, "v1\n", readA(t, wt.FS))
	assert.Equal(t, first, wt.Commit)
}
