package repo

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/compiler"
	"github.com/promoctl/promoctl/evaluator"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/promotions"
)

const boostFile = "promotions/spring-api-boost.yaml"

// copyAcme copies the example repo to dir (created) and returns dir.
func copyAcme(t *testing.T, dir string) string {
	t.Helper()
	require.NoError(t, os.CopyFS(dir, os.DirFS("../../../examples/acme")))
	return dir
}

// setBoost rewrites spring-api-boost's additive allowance.
func setBoost(t *testing.T, root, allowance string) {
	t.Helper()
	p := filepath.Join(root, boostFile)
	src, err := os.ReadFile(p)
	require.NoError(t, err)
	out := strings.Replace(string(src), "allowance: 50000", "allowance: "+allowance, 1)
	require.NotEqual(t, string(src), out, "allowance line not found")
	require.NoError(t, os.WriteFile(p, []byte(out), 0o644))
}

func writeFile(t *testing.T, root, name, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(filepath.Join(root, name), []byte(content), 0o644))
}

// apiCalls is cus_001's api_calls allowance on 2026-04-01: 10,000 from the
// plan plus spring-api-boost.
func apiCalls(t *testing.T, s *store.Store) int64 {
	t.Helper()
	snap := s.Snapshot()
	require.NotNil(t, snap)
	d, err := evaluator.Decide(snap, evaluator.Query{Customer: "cus_001", Feature: "api_calls", At: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	return d.Allowance.Value
}

func TestReloadServesValidRepo(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	s := newStore(root)
	assert.Nil(t, s.Snapshot(), "nothing serves before the first load")
	assert.False(t, s.Status().Ready)

	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	st := s.Status()
	assert.True(t, st.Ready)
	assert.Equal(t, 9, st.Counts.Promotions)
	assert.Equal(t, 26, st.Counts.Customers)
	assert.True(t, strings.HasPrefix(st.Revision, "sha256:"), st.Revision)
	assert.Equal(t, st.Revision, s.Snapshot().Revision)
	assert.Empty(t, st.Commit, "not a git checkout")
	assert.EqualValues(t, 1, st.ReloadsOK)
	assert.Equal(t, int64(60000), apiCalls(t, s))
}

func TestReloadOfUnchangedTreeIsNoOp(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	first := s.Snapshot()

	assert.Equal(t, store.Unchanged, s.Reload(context.Background()))
	assert.Same(t, first, s.Snapshot())
	assert.EqualValues(t, 1, s.Status().ReloadsOK)
}

func TestReloadPicksUpEdit(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	before := s.Status().Revision

	setBoost(t, root, "7")
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	assert.Equal(t, int64(10007), apiCalls(t, s))
	assert.NotEqual(t, before, s.Status().Revision)
	assert.Equal(t, 1, s.Status().LastReload.Parsed, "only the changed file is parsed again")
}

func TestFailedReloadKeepsLastGood(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	good := s.Snapshot()

	setBoost(t, root, "-5")
	require.Equal(t, store.Failed, s.Reload(context.Background()))
	assert.Same(t, good, s.Snapshot(), "the last good snapshot keeps serving")
	st := s.Status()
	assert.True(t, st.Ready)
	assert.Equal(t, good.Revision, st.Revision)
	require.NotNil(t, st.LastReload)
	assert.False(t, st.LastReload.OK)
	assert.NotEqual(t, good.Revision, st.LastReload.Revision)
	require.NotEmpty(t, st.LastReload.Errors)
	assert.Equal(t, boostFile, st.LastReload.Errors[0].File)
	assert.Equal(t, promotions.CodeSchema, st.LastReload.Errors[0].Code)
	assert.EqualValues(t, 1, st.ReloadsFailed)
	assert.Equal(t, int64(60000), apiCalls(t, s))

	assert.Equal(t, store.Unchanged, s.Reload(context.Background()), "the same broken content is not counted twice")
	assert.EqualValues(t, 1, s.Status().ReloadsFailed)
}

func TestFixAfterFailureRecovers(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	original, err := os.ReadFile(filepath.Join(root, boostFile))
	require.NoError(t, err)
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))

	setBoost(t, root, "-5")
	require.Equal(t, store.Failed, s.Reload(context.Background()))
	writeFile(t, root, boostFile, strings.Replace(string(original), "allowance: 50000", "allowance: 3", 1))
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	assert.True(t, s.Status().LastReload.OK)
	assert.Equal(t, int64(10003), apiCalls(t, s))
}

func TestInvalidRepoAtStartIsNotReady(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	writeFile(t, root, "features/broken.yaml", "kind: Feature\nkey: Not Valid\n")
	s := newStore(root)

	require.Equal(t, store.Failed, s.Reload(context.Background()))
	assert.Nil(t, s.Snapshot())
	st := s.Status()
	assert.False(t, st.Ready)
	assert.Empty(t, st.Revision)
	require.NotNil(t, st.LastReload)
	assert.Equal(t, "features/broken.yaml", st.LastReload.Errors[0].File)

	require.NoError(t, os.Remove(filepath.Join(root, "features/broken.yaml")))
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	assert.True(t, s.Status().Ready)
}

func TestUnreadableRootCountsOnce(t *testing.T) {
	s := newStore(filepath.Join(t.TempDir(), "missing"))
	require.Equal(t, store.Failed, s.Reload(context.Background()))
	st := s.Status()
	require.NotNil(t, st.LastReload)
	assert.NotEmpty(t, st.LastReload.Err)
	assert.Equal(t, store.Unchanged, s.Reload(context.Background()), "a poll of a still-missing repo is not a new failure")
	assert.EqualValues(t, 1, s.Status().ReloadsFailed)
}

// gitRepo makes a git repository in dir with the example repo under
// config/ and commits it; it returns the commit hash.
func gitRepo(t *testing.T, dir string) (root, commit string) {
	t.Helper()
	repo, err := git.PlainInit(dir, false)
	require.NoError(t, err)
	root = copyAcme(t, filepath.Join(dir, "config"))
	writeFile(t, dir, "README.md", "outside the config dir\n")
	wt, err := repo.Worktree()
	require.NoError(t, err)
	require.NoError(t, wt.AddWithOptions(&git.AddOptions{All: true}))
	h, err := wt.Commit("config", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1_700_000_000, 0)}})
	require.NoError(t, err)
	return root, h.String()
}

func TestRevisionIsCommitWhenFilesEqualHEAD(t *testing.T) {
	root, commit := gitRepo(t, t.TempDir())
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	st := s.Status()
	assert.Equal(t, commit, st.Revision, "HEAD's config files hash like the loader's (keeps treeContentHash and compiler.Load in step)")
	assert.Equal(t, commit, st.Commit)
	assert.False(t, st.Dirty)
	assert.Equal(t, commit, s.Snapshot().Revision)
}

func TestRevisionIsContentHashWithUncommittedEdits(t *testing.T) {
	tests := []struct {
		name string
		edit func(t *testing.T, root string)
	}{
		{"modified file", func(t *testing.T, root string) { setBoost(t, root, "9") }},
		{"untracked config file", func(t *testing.T, root string) {
			writeFile(t, root, "features/extra.yaml", "kind: Feature\nkey: extra\nname: Extra\ntype: boolean\n")
		}},
		{"deleted file", func(t *testing.T, root string) {
			require.NoError(t, os.Remove(filepath.Join(root, "promotions/summer-storage-bonus.yaml")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, commit := gitRepo(t, t.TempDir())
			s := newStore(root)
			require.Equal(t, store.Swapped, s.Reload(context.Background()))

			tt.edit(t, root)
			require.Equal(t, store.Swapped, s.Reload(context.Background()))
			st := s.Status()
			assert.True(t, st.Dirty)
			assert.Equal(t, commit, st.Commit)
			assert.Equal(t, st.ContentHash, st.Revision)
			assert.NotEqual(t, commit, st.Revision)
		})
	}
}

func TestRevisionReturnsToCommitWhenEditUndone(t *testing.T) {
	root, commit := gitRepo(t, t.TempDir())
	original, err := os.ReadFile(filepath.Join(root, boostFile))
	require.NoError(t, err)
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))

	setBoost(t, root, "9")
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	writeFile(t, root, boostFile, string(original))
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	assert.Equal(t, commit, s.Status().Revision)
	assert.Equal(t, commit, s.Snapshot().Revision)
	assert.Equal(t, int64(60000), apiCalls(t, s))
}

func TestRevisionWithRelativeRoot(t *testing.T) {
	dir := t.TempDir()
	_, commit := gitRepo(t, dir)
	t.Chdir(dir)
	s := newStore("config")
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	assert.Equal(t, commit, s.Status().Revision)
}

func TestFilesOutsideRepoDirDoNotMakeItDirty(t *testing.T) {
	root, commit := gitRepo(t, t.TempDir())
	writeFile(t, filepath.Dir(root), "other.yaml", "kind: Feature\n")
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))
	assert.Equal(t, commit, s.Status().Revision)
}

// TestReadersNeverSeeHalfAppliedSnapshot decides concurrently with reloads:
// every answer must be the one its own revision implies.
func TestReadersNeverSeeHalfAppliedSnapshot(t *testing.T) {
	root := copyAcme(t, t.TempDir())
	original, err := os.ReadFile(filepath.Join(root, boostFile))
	require.NoError(t, err)
	s := newStore(root)
	require.Equal(t, store.Swapped, s.Reload(context.Background()))

	var mu sync.Mutex
	want := map[string]int64{s.Status().Revision: 60000}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var checked atomic.Int64
	at := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				snap := s.Snapshot()
				d, err := evaluator.Decide(snap, evaluator.Query{Customer: "cus_001", Feature: "api_calls", At: at})
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				expected, known := want[d.Revision]
				mu.Unlock()
				if known {
					assert.Equal(t, expected, d.Allowance.Value, "revision %s", d.Revision)
					checked.Add(1)
				}
			}
		}()
	}
	for i := range 20 {
		extra := int64(i + 1)
		// The expected answer is registered under the revision before the
		// swap, so a reader can never see a revision it cannot check.
		writeFile(t, root, boostFile, strings.Replace(string(original), "allowance: 50000", "allowance: "+strconv.FormatInt(extra, 10), 1))
		res, err := compiler.Load(os.DirFS(root), compiler.Options{})
		require.NoError(t, err)
		mu.Lock()
		want[res.ContentHash] = 10000 + extra
		mu.Unlock()
		require.Equal(t, store.Swapped, s.Reload(context.Background()))
	}
	stop.Store(true)
	wg.Wait()
	assert.Positive(t, checked.Load())
}

// newStore returns a store that serves the repo at root.
func newStore(root string) *store.Store {
	return store.New(NewLoader(root, promotions.Limits{}, nil), nil)
}

// TestReloadRefusesWhatWouldLeaveNothingToServe: a repo emptied while
// served (rm -rf repo/*), one left without a Feature, and one holding a
// path the loader must not read are failed reloads: the last good
// snapshot keeps serving, and the status says why.
func TestReloadRefusesWhatWouldLeaveNothingToServe(t *testing.T) {
	tests := []struct {
		name     string
		change   func(t *testing.T, root string)
		wantErr  string          // the reload's error, when the tree could not be loaded
		wantCode promotions.Code // the reload's validation error otherwise
	}{
		{"emptied", func(t *testing.T, root string) {
			entries, err := os.ReadDir(root)
			require.NoError(t, err)
			for _, e := range entries {
				require.NoError(t, os.RemoveAll(filepath.Join(root, e.Name())))
			}
		}, "no config files", ""},
		{"no Feature left", func(t *testing.T, root string) {
			require.NoError(t, os.RemoveAll(filepath.Join(root, "features")))
		}, "", promotions.CodeNoFeatures},
		{"a named pipe", func(t *testing.T, root string) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(root, "promotions", "pipe.yaml"), 0o644))
		}, "", promotions.CodeUnsafePath},
		{"a link out of the repo", func(t *testing.T, root string) {
			require.NoError(t, os.Symlink("/etc/hostname", filepath.Join(root, "features", "host.yaml")))
		}, "", promotions.CodeUnsafePath},
		{"a link to a device", func(t *testing.T, root string) {
			require.NoError(t, os.Symlink("/dev/zero", filepath.Join(root, "features", "zero.yaml")))
		}, "", promotions.CodeUnsafePath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := copyAcme(t, t.TempDir())
			s := newStore(root)
			require.Equal(t, store.Swapped, s.Reload(context.Background()))
			good := s.Snapshot()

			tt.change(t, root)
			require.Equal(t, store.Failed, s.Reload(context.Background()))
			assert.Same(t, good, s.Snapshot(), "the last good snapshot keeps serving")
			st := s.Status()
			assert.True(t, st.Ready)
			assert.EqualValues(t, 1, st.ReloadsFailed)
			require.NotNil(t, st.LastReload)
			assert.False(t, st.LastReload.OK)
			if tt.wantErr != "" {
				assert.Contains(t, st.LastReload.Err, tt.wantErr)
				return
			}
			require.NotEmpty(t, st.LastReload.Errors)
			assert.Equal(t, tt.wantCode, st.LastReload.Errors[0].Code)
			assert.Equal(t, int64(60000), apiCalls(t, s))
		})
	}
}
