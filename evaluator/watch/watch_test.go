package watch

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testDebounce = 50 * time.Millisecond
	eventually   = 5 * time.Second // generous: only bounds a hung test
	tick         = 10 * time.Millisecond
)

// counter runs a watcher on root and counts reloads.
type counter struct{ n atomic.Int64 }

func (c *counter) reload(context.Context) { c.n.Add(1) }

func (c *counter) waitFor(t *testing.T, atLeast int64, what string) {
	t.Helper()
	require.Eventually(t, func() bool { return c.n.Load() >= atLeast }, eventually, tick, what)
}

func start(t *testing.T, root string, opts Options) *counter {
	t.Helper()
	c := &counter{}
	if opts.Debounce == 0 {
		opts.Debounce = testDebounce
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, root, c.reload, opts) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(eventually):
			t.Error("watcher did not stop")
		}
	})
	c.waitFor(t, 1, "the first load happens at start")
	// Let the first sync finish adding watches before the test changes
	// anything: the reload goroutine syncs before each reload.
	time.Sleep(2 * testDebounce)
	return c
}

func write(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

func TestWriteTriggersReload(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "features/a.yaml"), "a")
	c := start(t, root, Options{})
	write(t, filepath.Join(root, "features/a.yaml"), "b")
	c.waitFor(t, 2, "a write in a sub-directory reloads")
}

func TestBurstIsCoalesced(t *testing.T) {
	root := t.TempDir()
	c := start(t, root, Options{Debounce: 200 * time.Millisecond})
	before := c.n.Load()
	for i := range 100 {
		write(t, filepath.Join(root, "a.yaml"), strconv.Itoa(i))
	}
	c.waitFor(t, before+1, "the burst reloads")
	time.Sleep(400 * time.Millisecond)
	assert.LessOrEqual(t, c.n.Load()-before, int64(3), "100 writes in a burst give a few reloads, not 100")
}

func TestNewSubdirectoryIsWatched(t *testing.T) {
	root := t.TempDir()
	c := start(t, root, Options{})
	require.NoError(t, os.Mkdir(filepath.Join(root, "new"), 0o755))
	c.waitFor(t, 2, "creating a directory reloads")
	time.Sleep(2 * testDebounce)
	n := c.n.Load()
	write(t, filepath.Join(root, "new/x.yaml"), "x")
	c.waitFor(t, n+1, "a write inside the new directory reloads")
}

func TestDotFilesAreIgnored(t *testing.T) {
	root := t.TempDir()
	c := start(t, root, Options{})
	n := c.n.Load()
	write(t, filepath.Join(root, ".a.yaml.swp"), "x")
	time.Sleep(6 * testDebounce)
	assert.Equal(t, n, c.n.Load(), "an editor's swap file does not reload")
}

func TestRootSymlinkSwap(t *testing.T) {
	base := t.TempDir()
	write(t, filepath.Join(base, "rev1/a.yaml"), "1")
	write(t, filepath.Join(base, "rev2/a.yaml"), "2")
	root := filepath.Join(base, "repo")
	require.NoError(t, os.Symlink("rev1", root))
	c := start(t, root, Options{})

	n := c.n.Load()
	// git-sync style: a new link, renamed over the old one.
	require.NoError(t, os.Symlink("rev2", filepath.Join(base, ".tmp-link")))
	require.NoError(t, os.Rename(filepath.Join(base, ".tmp-link"), root))
	c.waitFor(t, n+1, "swapping the root link reloads")

	time.Sleep(2 * testDebounce)
	n = c.n.Load()
	write(t, filepath.Join(base, "rev2/a.yaml"), "2b")
	c.waitFor(t, n+1, "the new target is watched")
	time.Sleep(2 * testDebounce)
	n = c.n.Load()
	write(t, filepath.Join(base, "rev1/a.yaml"), "1b")
	time.Sleep(6 * testDebounce)
	assert.Equal(t, n, c.n.Load(), "the old target is no longer watched")
}

func TestConfigMapDataSwap(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "..v1/a.yaml"), "1")
	write(t, filepath.Join(root, "..v2/a.yaml"), "2")
	require.NoError(t, os.Symlink("..v1", filepath.Join(root, "..data")))
	require.NoError(t, os.Symlink("..data/a.yaml", filepath.Join(root, "a.yaml")))
	c := start(t, root, Options{})

	n := c.n.Load()
	// What the kubelet does: a new ..data link renamed over the old one.
	require.NoError(t, os.Symlink("..v2", filepath.Join(root, "..data_tmp")))
	require.NoError(t, os.Rename(filepath.Join(root, "..data_tmp"), filepath.Join(root, "..data")))
	c.waitFor(t, n+1, "the ..data swap reloads")
}

func TestPollReloadsWithoutEvents(t *testing.T) {
	root := t.TempDir()
	c := start(t, root, Options{Poll: 20 * time.Millisecond})
	n := c.n.Load()
	c.waitFor(t, n+3, "each poll tick asks for a reload")
}

// TestWatchesStayInsideTheRepo: directories reached through links inside
// the repo are watched (ConfigMap `..data`), those a link out of it leads
// to are not, as the loader does not read them either.
func TestWatchesStayInsideTheRepo(t *testing.T) {
	base, err := filepath.EvalSymlinks(t.TempDir())
	require.NoError(t, err)
	root, outside := filepath.Join(base, "repo"), filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "..v1", "features"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.Symlink("..v1/features", filepath.Join(root, "features")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "out")))

	dirs := map[string]bool{}
	collectDirs(root, root, 0, dirs)
	assert.Equal(t, map[string]bool{root: true, filepath.Join(root, "..v1", "features"): true}, dirs)
}
