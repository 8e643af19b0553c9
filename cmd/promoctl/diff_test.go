package main

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/promoctl/promoctl/compiler"
)

// What validate and diff say about a base revision that is not in the
// clone, from what the repository has (compiler's TestOpenRevisionNotFound
// holds that those facts are read right).
func TestBaseNotFoundHint(t *testing.T) {
	const actions = "fetch-depth: 0"
	tests := []struct {
		name          string
		remote        bool // the clone has a remote named origin
		shallow       bool // and its history is cut
		rev           string
		want, wantNot []string
	}{
		{name: "branch of a remote", remote: true, rev: "origin/main",
			want:    []string{`"git fetch origin main:refs/remotes/origin/main"`, "--base origin/main", actions},
			wantNot: []string{"--unshallow"}},
		{name: "local branch name, remote exists", remote: true, rev: "no-such-branch",
			want: []string{`"git fetch origin no-such-branch:refs/remotes/origin/no-such-branch"`, "--base origin/no-such-branch"}},
		{name: "no remote", rev: "origin/main",
			want:    []string{"no remote to fetch it from", "--base-dir"},
			wantNot: []string{"git fetch", "--unshallow"}},
		{name: "sha without remote", rev: "0123456789abcdef0123456789abcdef01234567",
			want: []string{"no remote to fetch it from"}, wantNot: []string{"git fetch"}},
		{name: "relative, full history", remote: true, rev: "HEAD~5",
			want:    []string{"the history has no such commit"},
			wantNot: []string{"git fetch", "refs/remotes"}},
		{name: "relative, shallow clone", remote: true, shallow: true, rev: "HEAD~5",
			want:    []string{`"git fetch --unshallow"`, actions},
			wantNot: []string{"refs/remotes", "HEAD~5:"}},
		{name: "relative, shallow without remote", shallow: true, rev: "HEAD^^^^^",
			want: []string{"the history has no such commit"}, wantNot: []string{"git fetch"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nf := &compiler.BaseNotFoundError{Rev: tt.rev, Err: errors.New("reference not found"), Shallow: tt.shallow}
			if tt.remote {
				nf.Remotes = []string{"origin"}
			}
			got := baseNotFoundHint(nf)
			assert.Contains(t, got, `base revision "`+tt.rev+`" is not in this clone (reference not found)`)
			for _, w := range tt.want {
				assert.Contains(t, got, w)
			}
			for _, w := range tt.wantNot {
				assert.NotContains(t, got, w)
			}
		})
	}
}
