package history_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler/history"
)

// renameRepo writes a repo whose customers file holds customers records,
// and then commits renames: each commit renames another customer in that
// one file. cus_00000 is never renamed. It writes git objects directly (a
// worktree commit of a large file costs far more), and returns the
// repo's directory.
func renameRepo(tb testing.TB, customers, renames int) string {
	tb.Helper()
	dir := tb.TempDir()
	repo, err := git.PlainInit(dir, false)
	require.NoError(tb, err)
	names := make([]string, customers)
	for i := range names {
		names[i] = fmt.Sprintf("Customer %d", i)
	}
	promo := []byte(promo("Trial", "  all:\n    granted_at: 2026-03-02T00:00:00Z\n"))
	when := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	var parent plumbing.Hash
	for c := 0; c <= renames; c++ {
		if c > 0 {
			i := 1 + (c*7919)%(customers-1)
			names[i] = fmt.Sprintf("Customer %d, renamed in commit %d", i, c)
		}
		var file bytes.Buffer
		file.WriteString("kind: Customers\ncustomers:\n")
		for i, name := range names {
			fmt.Fprintf(&file, "  - id: cus_%05d\n    name: %q\n    email: billing%d@example.com\n    plan: starter\n    attributes:\n      region: eu\n", i, name, i)
		}
		customersBlob := writeBlob(tb, repo.Storer, file.Bytes())
		promoBlob := writeBlob(tb, repo.Storer, promo)
		promotionsTree := writeTree(tb, repo.Storer, []object.TreeEntry{{Name: "trial.yaml", Mode: filemode.Regular, Hash: promoBlob}})
		root := writeTree(tb, repo.Storer, []object.TreeEntry{
			{Name: "customers.yaml", Mode: filemode.Regular, Hash: customersBlob},
			{Name: "promotions", Mode: filemode.Dir, Hash: promotionsTree},
		})
		when = when.Add(time.Hour)
		sig := object.Signature{Name: "Ada", Email: "ada@example.com", When: when}
		commit := &object.Commit{Author: sig, Committer: sig, Message: fmt.Sprintf("rename %d", c), TreeHash: root}
		if c > 0 {
			commit.ParentHashes = []plumbing.Hash{parent}
		}
		parent = writeObject(tb, repo.Storer, commit)
	}
	require.NoError(tb, repo.Storer.SetReference(plumbing.NewHashReference(plumbing.NewBranchReferenceName("main"), parent)))
	require.NoError(tb, repo.Storer.SetReference(plumbing.NewSymbolicReference(plumbing.HEAD, plumbing.NewBranchReferenceName("main"))))
	return dir
}

type encoder interface {
	Encode(plumbing.EncodedObject) error
}

func writeObject(tb testing.TB, s storer.EncodedObjectStorer, o encoder) plumbing.Hash {
	tb.Helper()
	obj := s.NewEncodedObject()
	require.NoError(tb, o.Encode(obj))
	h, err := s.SetEncodedObject(obj)
	require.NoError(tb, err)
	return h
}

func writeBlob(tb testing.TB, s storer.EncodedObjectStorer, data []byte) plumbing.Hash {
	tb.Helper()
	obj := s.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, err := obj.Writer()
	require.NoError(tb, err)
	_, err = w.Write(data)
	require.NoError(tb, err)
	require.NoError(tb, w.Close())
	h, err := s.SetEncodedObject(obj)
	require.NoError(tb, err)
	return h
}

func writeTree(tb testing.TB, s storer.EncodedObjectStorer, entries []object.TreeEntry) plumbing.Hash {
	tb.Helper()
	return writeObject(tb, s, &object.Tree{Entries: entries})
}

// TestRenamesOfOthersAreNotParsed: 300 commits each rename another
// customer in the file that holds cus_00000. None of them changes
// cus_00000, so none needs the file parsed: its record reads the same
// before and after.
func TestRenamesOfOthersAreNotParsed(t *testing.T) {
	dir := renameRepo(t, 200, 300)
	commits, st, err := history.Walk(dir, history.Query{Customer: "cus_00000"})
	require.NoError(t, err)
	require.Len(t, commits, 1, "the first commit added the record and grants.all covers it")
	assert.Equal(t, 301, st.Commits)
	assert.LessOrEqual(t, st.Parsed, 2, "only the first commit's files are parsed")

	renamed := fmt.Sprintf("cus_%05d", 1+(300*7919)%199)
	commits, _, err = history.Walk(dir, history.Query{Customer: renamed})
	require.NoError(t, err)
	require.NotEmpty(t, commits)
	assert.Equal(t, []history.Change{{Customer: renamed, Change: history.RecordChanged, Field: "name"}}, commits[0].Changes,
		"a rename of the customer asked for is still found")
}

// BenchmarkHistoryRenames is the M-sized case: a customers file of 10,000
// customers renamed 300 times, and the history of a customer in it.
func BenchmarkHistoryRenames(b *testing.B) {
	dir := renameRepo(b, 10_000, 300)
	b.ResetTimer()
	for range b.N {
		_, st, err := history.Walk(dir, history.Query{Customer: "cus_00000"})
		require.NoError(b, err)
		b.ReportMetric(float64(st.Parsed), "parsed")
	}
}
