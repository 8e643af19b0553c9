package history_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/history"
)

func hashes(commits []history.Commit) []string {
	var out []string
	for _, c := range commits {
		out = append(out, c.Hash)
	}
	return out
}

// A walk bounded by commits walked says where it stopped, and continuing
// from there (Skip) gives the rest: together, the whole history.
func TestWalkStopsAfterMaxCommitsAndContinues(t *testing.T) {
	s, h := buildHistory(t)
	all, st, err := history.Walk(s.dir, history.Query{Promotion: "trial"})
	require.NoError(t, err)
	assert.Equal(t, history.Complete, st.Stopped)

	first, st, err := history.Walk(s.dir, history.Query{Promotion: "trial", MaxCommits: 3})
	require.NoError(t, err)
	assert.Equal(t, history.CommitBound, st.Stopped)
	assert.Equal(t, 3, st.Commits)
	assert.Equal(t, 3, st.Next)
	assert.Equal(t, h["readme"], st.Last, "the third commit walked, newest first")
	rest, st, err := history.Walk(s.dir, history.Query{Promotion: "trial", MaxCommits: 3, Skip: st.Next})
	require.NoError(t, err)
	assert.Equal(t, history.CommitBound, st.Stopped)
	more, st, err := history.Walk(s.dir, history.Query{Promotion: "trial", MaxCommits: 3, Skip: st.Next})
	require.NoError(t, err)
	assert.Equal(t, history.Complete, st.Stopped)
	assert.Equal(t, hashes(all), append(append(hashes(first), hashes(rest)...), hashes(more)...))
}

// A page of changes (Limit) stops the walk and continues likewise.
func TestWalkPagesContinue(t *testing.T) {
	s, _ := buildHistory(t)
	all, _, err := history.Walk(s.dir, history.Query{Promotion: "trial"})
	require.NoError(t, err)
	var got []string
	skip := 0
	for range 10 {
		page, st, err := history.Walk(s.dir, history.Query{Promotion: "trial", Limit: 2, Skip: skip})
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), 2)
		got = append(got, hashes(page)...)
		if st.Stopped == history.Complete {
			break
		}
		assert.Equal(t, history.PageFull, st.Stopped)
		skip = st.Next
	}
	assert.Equal(t, hashes(all), got)
}

func TestWalkStopsAtDeadlineAndOnCancel(t *testing.T) {
	s, _ := buildHistory(t)
	_, st, err := history.Walk(s.dir, history.Query{Customer: "cus_1", Deadline: time.Now().Add(-time.Second)})
	require.NoError(t, err)
	assert.Equal(t, history.DeadlineReach, st.Stopped)
	assert.Zero(t, st.Commits)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, st, err = history.WalkContext(ctx, s.dir, history.Query{Customer: "cus_1"})
	require.NoError(t, err)
	assert.Equal(t, history.Cancelled, st.Stopped)
	assert.Zero(t, st.Commits)
}
