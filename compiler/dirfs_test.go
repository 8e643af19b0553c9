package compiler

import (
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/promoctl/promoctl/promotions"
)

const featureYAML = "kind: Feature\nkey: %s\nname: A feature\ntype: boolean\n"

func feature(key string) string { return strings.ReplaceAll(featureYAML, "%s", key) }

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

func symlink(t *testing.T, target, name string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(name), 0o755))
	require.NoError(t, os.Symlink(target, name))
}

// TestScanTree holds the walk to what the loader may read: regular files
// inside the repo, each once, links followed only to what the plain walk
// does not reach.
func TestScanTree(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(t *testing.T, root, outside string)
		wantFiles  []string
		wantUnsafe []string
	}{
		{
			name: "ConfigMap layout: entries link through ..data into a dot directory",
			setup: func(t *testing.T, root, _ string) {
				writeTree(t, filepath.Join(root, "..2026_01_01.1"), map[string]string{"features/a.yaml": feature("a"), "b.yaml": feature("b")})
				symlink(t, "..2026_01_01.1", filepath.Join(root, "..data"))
				symlink(t, "..data/features", filepath.Join(root, "features"))
				symlink(t, "..data/b.yaml", filepath.Join(root, "b.yaml"))
			},
			wantFiles: []string{"b.yaml", "features/a.yaml"},
		},
		{
			name: "a link to a file the walk reads anyway is not read twice",
			setup: func(t *testing.T, root, _ string) {
				writeTree(t, root, map[string]string{"features/a.yaml": feature("a")})
				symlink(t, "features/a.yaml", filepath.Join(root, "alias.yaml"))
			},
			wantFiles: []string{"features/a.yaml"},
		},
		{
			name: "a link to a directory the walk reads anyway is not walked",
			setup: func(t *testing.T, root, _ string) {
				writeTree(t, root, map[string]string{"features/a.yaml": feature("a")})
				symlink(t, "features", filepath.Join(root, "more"))
			},
			wantFiles: []string{"features/a.yaml"},
		},
		{
			name: "two links to one dot directory walk it once",
			setup: func(t *testing.T, root, _ string) {
				writeTree(t, filepath.Join(root, ".shared"), map[string]string{"a.yaml": feature("a")})
				symlink(t, ".shared", filepath.Join(root, "one"))
				symlink(t, ".shared", filepath.Join(root, "two"))
			},
			wantFiles: []string{"one/a.yaml"},
		},
		{
			name: "link loops end",
			setup: func(t *testing.T, root, _ string) {
				writeTree(t, filepath.Join(root, ".d"), map[string]string{"a.yaml": feature("a")})
				symlink(t, "..", filepath.Join(root, ".d", "up"))
				symlink(t, ".", filepath.Join(root, ".d", "self"))
				symlink(t, ".d", filepath.Join(root, "d"))
				symlink(t, ".", filepath.Join(root, "self"))
			},
			wantFiles: []string{"d/a.yaml"},
		},
		{
			name: "dangling links and links out to other files are ignored",
			setup: func(t *testing.T, root, outside string) {
				writeTree(t, root, map[string]string{"a.yaml": feature("a")})
				symlink(t, "missing.yaml", filepath.Join(root, "gone.yaml"))
				symlink(t, filepath.Join(outside, "notes.txt"), filepath.Join(root, "notes.txt"))
			},
			wantFiles: []string{"a.yaml"},
		},
		{
			name: "links out of the repo, devices, pipes and sockets are unsafe",
			setup: func(t *testing.T, root, outside string) {
				writeTree(t, root, map[string]string{"a.yaml": feature("a")})
				symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(root, "leak.yaml"))
				symlink(t, "../outside/secret.yaml", filepath.Join(root, "rel.yml"))
				symlink(t, outside, filepath.Join(root, "dir"))
				symlink(t, "/dev/zero", filepath.Join(root, "zero.yaml"))
				symlink(t, "/dev/urandom", filepath.Join(root, "random.yaml"))
				require.NoError(t, syscall.Mkfifo(filepath.Join(root, "pipe.yaml"), 0o644))
				ln, err := net.Listen("unix", filepath.Join(root, "s.yaml"))
				require.NoError(t, err)
				t.Cleanup(func() { _ = ln.Close() })
				// A pipe that is not a config file is none of the loader's business.
				require.NoError(t, syscall.Mkfifo(filepath.Join(root, "pipe.txt"), 0o644))
			},
			wantFiles:  []string{"a.yaml"},
			wantUnsafe: []string{"dir", "leak.yaml", "pipe.yaml", "random.yaml", "rel.yml", "s.yaml", "zero.yaml"},
		},
		{
			name: "a link inside the repo to a pipe is unsafe",
			setup: func(t *testing.T, root, _ string) {
				writeTree(t, root, map[string]string{"a.yaml": feature("a")})
				require.NoError(t, os.MkdirAll(filepath.Join(root, ".hidden"), 0o755))
				require.NoError(t, syscall.Mkfifo(filepath.Join(root, ".hidden", "p"), 0o644))
				symlink(t, ".hidden/p", filepath.Join(root, "p.yaml"))
			},
			wantFiles:  []string{"a.yaml"},
			wantUnsafe: []string{"p.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Short names: a unix socket path has a length limit.
			base, err := os.MkdirTemp("", "pc")
			require.NoError(t, err)
			t.Cleanup(func() { _ = os.RemoveAll(base) })
			root, outside := filepath.Join(base, "repo"), filepath.Join(base, "outside")
			writeTree(t, outside, map[string]string{"secret.yaml": feature("secret"), "notes.txt": "x"})
			require.NoError(t, os.MkdirAll(root, 0o755))
			tt.setup(t, root, outside)

			repo := OpenDir(root)
			defer repo.Close()
			tree, err := scanTree(repo)
			require.NoError(t, err)
			assert.Equal(t, tt.wantFiles, tree.files)
			var unsafe []string
			for _, u := range tree.unsafe {
				unsafe = append(unsafe, u.Path)
			}
			assert.Equal(t, tt.wantUnsafe, unsafe)
		})
	}
}

// TestReadConfigFileRefusesWhatIsNotRegular opens a pipe, a device and a
// link out of the repo directly, as a file swapped in after the walk
// would be: none is read, none blocks.
func TestReadConfigFileRefusesWhatIsNotRegular(t *testing.T) {
	base := t.TempDir()
	root := filepath.Join(base, "repo")
	writeTree(t, base, map[string]string{"secret.yaml": "secret", "repo/inside/dev/.keep": ""})
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "pipe.yaml"), 0o644))
	symlink(t, "../secret.yaml", filepath.Join(root, "leak.yaml"))
	symlink(t, "/dev/zero", filepath.Join(root, "zero.yaml"))

	repo := OpenDir(root)
	defer repo.Close()
	for _, name := range []string{"pipe.yaml", "leak.yaml", "zero.yaml"} {
		t.Run(name, func(t *testing.T) {
			data, _, err := readConfigFile(repo, name, 1<<20)
			var unsafe *UnsafePathError
			require.ErrorAs(t, err, &unsafe)
			assert.Equal(t, name, unsafe.Path)
			assert.Nil(t, data)
		})
	}
}

// lyingFS serves one file whose stat claims 10 bytes while its content
// never ends, as a device or a file growing under the reader would.
type lyingFS struct{}

func (lyingFS) Open(string) (fs.File, error) { return &lyingFile{}, nil }

type lyingFile struct{ read int64 }

type lyingInfo struct{}

func (lyingInfo) Name() string       { return "f.yaml" }
func (lyingInfo) Size() int64        { return 10 }
func (lyingInfo) Mode() fs.FileMode  { return 0o644 }
func (lyingInfo) ModTime() time.Time { return time.Time{} }
func (lyingInfo) IsDir() bool        { return false }
func (lyingInfo) Sys() any           { return nil }

func (f *lyingFile) Stat() (fs.FileInfo, error) { return lyingInfo{}, nil }
func (f *lyingFile) Close() error               { return nil }
func (f *lyingFile) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	f.read += int64(len(p))
	return len(p), nil
}

func TestReadConfigFileIsBoundedWhateverStatSays(t *testing.T) {
	_, _, err := readConfigFile(lyingFS{}, "f.yaml", 4096)
	var tooBig *fileTooLargeError
	require.ErrorAs(t, err, &tooBig)
	assert.Contains(t, tooBig.Error(), "more than the limit of 4096 bytes")
}

func TestEmptyDirectoryIsAnError(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"empty":                {},
		"no config file":       {"README.md": "# repo"},
		"only dot directories": {".git/x.yaml": feature("a"), ".promoctl/y.yaml": feature("b")},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, files)
			_, err := Load(OpenDir(dir), Options{})
			require.ErrorIs(t, err, ErrNoConfigFiles)
		})
	}
}

func TestRootLinkIsResolvedByEachOpen(t *testing.T) {
	base := t.TempDir()
	writeTree(t, filepath.Join(base, "rev1"), map[string]string{"a.yaml": feature("one")})
	writeTree(t, filepath.Join(base, "rev2"), map[string]string{"a.yaml": feature("two")})
	link := filepath.Join(base, "repo")
	symlink(t, "rev1", link)
	cache := NewCache()
	load := func() string {
		repo := OpenDir(link)
		defer repo.Close()
		res, err := Load(repo, Options{Cache: cache})
		require.NoError(t, err)
		require.True(t, res.OK(), "%v", res.Diagnostics)
		return promotions.SortedKeys(res.Model.Features)[0]
	}
	assert.Equal(t, "one", load())
	require.NoError(t, os.Symlink("rev2", filepath.Join(base, "tmp")))
	require.NoError(t, os.Rename(filepath.Join(base, "tmp"), link))
	assert.Equal(t, "two", load())
}

// TestReloadSeesChangesUnderFixedStamps changes a file so that its size
// and modification time stay the same, as reproducible tarballs, cp -p,
// Nix-style stores and git-sync swaps to trees with equal stamps do: the
// next load with the same cache must see the new content.
func TestReloadSeesChangesUnderFixedStamps(t *testing.T) {
	fixed := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		change func(t *testing.T, base, link string)
	}{
		{"rewritten in place", func(t *testing.T, base, _ string) {
			p := filepath.Join(base, "rev1", "a.yaml")
			require.NoError(t, os.WriteFile(p, []byte(feature("bbb")), 0o644))
			require.NoError(t, os.Chtimes(p, fixed, fixed))
		}},
		{"replaced by a copy that keeps the stamps (cp -p, rename)", func(t *testing.T, base, _ string) {
			tmp := filepath.Join(base, "rev1", ".a.yaml.tmp")
			require.NoError(t, os.WriteFile(tmp, []byte(feature("bbb")), 0o644))
			require.NoError(t, os.Chtimes(tmp, fixed, fixed))
			require.NoError(t, os.Rename(tmp, filepath.Join(base, "rev1", "a.yaml")))
		}},
		{"root link swapped to a tree with equal stamps (git-sync)", func(t *testing.T, base, link string) {
			writeTree(t, filepath.Join(base, "rev2"), map[string]string{"a.yaml": feature("bbb")})
			require.NoError(t, os.Chtimes(filepath.Join(base, "rev2", "a.yaml"), fixed, fixed))
			require.NoError(t, os.Symlink("rev2", filepath.Join(base, "tmp")))
			require.NoError(t, os.Rename(filepath.Join(base, "tmp"), link))
		}},
	}
	for _, tt := range tests {
		for _, trusted := range []bool{false, true} {
			name := tt.name + ", just after the read"
			if trusted {
				name = tt.name + ", once the stamps are trusted"
			}
			t.Run(name, func(t *testing.T) {
				base := t.TempDir()
				writeTree(t, filepath.Join(base, "rev1"), map[string]string{"a.yaml": feature("aaa")})
				require.NoError(t, os.Chtimes(filepath.Join(base, "rev1", "a.yaml"), fixed, fixed))
				link := filepath.Join(base, "repo")
				symlink(t, "rev1", link)
				cache := NewCache()
				load := func() string {
					repo := OpenDir(link)
					defer repo.Close()
					res, err := Load(repo, Options{Cache: cache})
					require.NoError(t, err)
					require.True(t, res.OK(), "%v", res.Diagnostics)
					return promotions.SortedKeys(res.Model.Features)[0]
				}
				assert.Equal(t, "aaa", load())
				if trusted {
					// Trust every stamp as a load long after the write would,
					// and let the kernel's coarse clock (a few ms) tick, as it
					// has between any such load and a later change.
					trustAll(cache)
					time.Sleep(50 * time.Millisecond)
				}
				tt.change(t, base, link)
				assert.Equal(t, "bbb", load())
			})
		}
	}
}

func trustAll(c *Cache) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for f, rec := range c.stamps {
		rec.trusted = true
		c.stamps[f] = rec
	}
}

// countingFS counts the files opened through it.
type countingFS struct {
	*DirFS
	opened atomic.Int64
}

func (c *countingFS) Open(name string) (fs.File, error) {
	f, err := c.DirFS.Open(name)
	if err == nil {
		if info, statErr := f.Stat(); statErr == nil && info.Mode().IsRegular() {
			c.opened.Add(1)
		}
	}
	return f, err
}

func (c *countingFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(c.DirFS, name) }

// TestTrustedStampsSkipReads: a file whose stamp is trusted and unchanged
// is not opened again; one written just before it was read (racily clean)
// is read again until its change is old enough.
func TestTrustedStampsSkipReads(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a.yaml": feature("a"), "b.yaml": feature("b")})
	cache := NewCache()
	load := func() int64 {
		repo := &countingFS{DirFS: OpenDir(dir)}
		defer repo.Close()
		res, err := Load(repo, Options{Cache: cache})
		require.NoError(t, err)
		require.True(t, res.OK(), "%v", res.Diagnostics)
		return repo.opened.Load()
	}
	assert.Equal(t, int64(2), load())
	assert.Equal(t, int64(2), load(), "files written just now are racily clean: read again")
	trustAll(cache)
	assert.Equal(t, int64(0), load())
}
