package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/internal/sidecartest"
	"github.com/promoctl/promoctl/promotions"
)

func TestConsoleRefusesUnsafeSetups(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"public address without sign-in", []string{"--addr", "0.0.0.0:0", "--author", "A <a@x>"},
			"--addr 0.0.0.0:0 is not a loopback address: set --token-file, or --trust-identity-header with --trusted-proxy"},
		{"identity header from anywhere", []string{"--trust-identity-header", "X-User", "--author", "A <a@x>"},
			"--trust-identity-header needs --trusted-proxy"},
		{"proxy without header", []string{"--trusted-proxy", "10.0.0.0/8", "--author", "A <a@x>"}, "--trusted-proxy needs --trust-identity-header"},
		{"bad proxy range", []string{"--trust-identity-header", "X-User", "--trusted-proxy", "10.0.0.1", "--author", "A <a@x>"},
			`--trusted-proxy "10.0.0.1": expected an address range such as 10.0.0.0/8`},
		{"bad author", []string{"--author", "ada@example.com"}, `--author: author "ada@example.com": expected "Name <email>"`},
		{"not a git repository", []string{"--author", "A <a@x>"}, "console: open git repository at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(append([]string{"console", "--repo", t.TempDir()}, tc.args...)...)
			assert.Equal(t, exitUsage, code)
			assert.Contains(t, stderr, tc.want)
		})
	}
}

func TestConsoleServesTheExampleRepo(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../examples/acme")))
	repo, err := git.PlainInitWithOptions(dir, &git.PlainInitOptions{InitOptions: git.InitOptions{DefaultBranch: plumbing.NewBranchReferenceName("main")}})
	require.NoError(t, err)
	wt, err := repo.Worktree()
	require.NoError(t, err)
	require.NoError(t, wt.AddGlob("."))
	_, err = wt.Commit("acme", &git.CommitOptions{Author: &object.Signature{Name: "A", Email: "a@example.com", When: time.Now()}})
	require.NoError(t, err)

	logs := &sidecartest.Buffer{}
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: logs, repo: dir, limits: promotions.DefaultLimits}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- a.console(ctx, consoleOptions{addr: "127.0.0.1:0", author: "Ada Lovelace <ada@example.com>", logFormat: "text", logLevel: "info"})
	}()
	var base string
	require.Eventually(t, func() bool {
		_, rest, ok := strings.Cut(logs.String(), "url=")
		base, _, _ = strings.Cut(rest, " ")
		return ok
	}, 10*time.Second, 10*time.Millisecond)
	resp, err := http.Get(base + "/promotions")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), "Spring API boost")
	assert.Contains(t, logs.String(), "base_branch=main")
	cancel()
	require.NoError(t, <-done)
}
