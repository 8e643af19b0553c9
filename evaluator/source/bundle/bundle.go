package bundle

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	format "github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/store"
)

// Source kinds, as status and metrics name them.
const (
	KindFile = "bundle file"
	KindURL  = "bundle url"
)

// Cache file names in a cache directory.
const (
	cacheFile = "bundle"
	etagFile  = "bundle.etag"
)

// Options configure a bundle source.
type Options struct {
	// Key, when set, must have signed every bundle served.
	Key ed25519.PublicKey
	// MaxSize bounds a bundle (0: compiler/bundle.DefaultMaxSize).
	MaxSize int64
	// CacheDir receives downloads of a URL and is read at start when the
	// URL cannot be reached. Empty: downloads are kept in memory only.
	CacheDir string
	// Client downloads URLs (default: a client with a 10-minute timeout).
	Client *http.Client
	Log    *slog.Logger
}

// Loader serves a bundle file or URL to a store.Store.
type Loader struct {
	location string
	isURL    bool
	opts     Options

	mu sync.Mutex // guards what Report reads
	// current is the latest good bundle: served, or about to be.
	current *format.Bundle
	etag    string
	// stat of the file current was read from.
	size    int64
	modTime time.Time
	started bool
	// refused is the error of the file last refused, with its stat.
	refused     error
	refusedSize int64
	refusedMod  time.Time
	served      bool // a bundle was handed to the store
	// fetch reporting.
	lastFetch     *store.Fetch
	fetchesOK     uint64
	fetchesFailed uint64
}

// IsURL reports whether a --bundle location is a URL rather than a path.
func IsURL(location string) bool {
	return strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://")
}

// New returns a loader for a path or an http(s) URL.
func New(location string, opts Options) *Loader {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = format.DefaultMaxSize
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 10 * time.Minute}
	}
	return &Loader{location: location, isURL: IsURL(location), opts: opts}
}

// Describe names the source.
func (l *Loader) Describe() string {
	if l.isURL {
		return KindURL + " " + l.location
	}
	return KindFile + " " + l.location
}

// Report says what the source is and how its last fetch went.
func (l *Loader) Report() store.SourceReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := store.SourceReport{Kind: KindFile, Location: l.location, FetchesOK: l.fetchesOK, FetchesFailed: l.fetchesFailed}
	if l.isURL {
		r.Kind = KindURL
	}
	if l.opts.Key != nil {
		r.VerifyKey = format.KeyID(l.opts.Key)
	}
	if l.lastFetch != nil {
		f := *l.lastFetch
		r.LastFetch = &f
	}
	return r
}

// Load reads the file, or fetches the URL, and hands the store the bundle
// to serve. An error (unreachable, refused) leaves the store's last good
// snapshot serving.
func (l *Loader) Load(ctx context.Context) (*store.Loaded, error) {
	if l.isURL {
		return l.loadURL(ctx)
	}
	return l.loadFile()
}

func (l *Loader) loadFile() (*store.Loaded, error) {
	info, err := os.Stat(l.location)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", l.location, err)
	}
	if l.current != nil && info.Size() == l.size && info.ModTime().Equal(l.modTime) {
		return loaded(l.current), nil
	}
	if l.refused != nil && info.Size() == l.refusedSize && info.ModTime().Equal(l.refusedMod) {
		return nil, l.refused // the same refused file: not read again
	}
	b, err := readBundle(l.location, l.opts)
	if err != nil {
		l.refused, l.refusedSize, l.refusedMod = err, info.Size(), info.ModTime()
		return nil, err
	}
	l.refused = nil
	l.mu.Lock()
	l.current, l.size, l.modTime = b, info.Size(), info.ModTime()
	l.mu.Unlock()
	return loaded(b), nil
}

// readBundle reads and decodes a bundle file whole.
func readBundle(path string, opts Options) (*format.Bundle, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	if info.Size() > opts.MaxSize {
		return nil, fmt.Errorf("bundle %s: %w", path, &format.Refusal{Problem: format.Oversized,
			Detail: fmt.Sprintf("%d bytes, more than the limit of %d", info.Size(), opts.MaxSize)})
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's own --bundle or cache file
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	b, err := format.Decode(data, format.Options{Key: opts.Key, MaxSize: opts.MaxSize})
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", path, err)
	}
	return b, nil
}

// loaded describes a decoded bundle for the store.
func loaded(b *format.Bundle) *store.Loaded {
	h := b.Header
	return &store.Loaded{
		Revision: h.Revision, Commit: h.Commit, Dirty: h.Dirty, ContentHash: h.ContentHash, Files: 1, Parsed: 1,
		Bundle: &store.BundleInfo{Time: h.CommitTime, SignedBy: b.SignedBy, Verified: b.Verified, Hash: b.Hash},
		Build: func(*snapshot.Snapshot) (*snapshot.Snapshot, error) {
			// A bundle is a whole state: it is built aside, never applied
			// to the serving snapshot as a difference.
			return b.Snapshot(h.Revision)
		},
	}
}

func (l *Loader) loadURL(ctx context.Context) (*store.Loaded, error) {
	if !l.started {
		l.started = true
		l.readCache()
	}
	start := time.Now()
	b, notModified, err := l.fetch(ctx)
	fetch := &store.Fetch{At: time.Now(), OK: err == nil, Duration: time.Since(start), NotModified: notModified}
	if err != nil {
		fetch.Error = err.Error()
	}
	l.mu.Lock()
	l.lastFetch = fetch
	if err == nil {
		l.fetchesOK++
	} else {
		l.fetchesFailed++
	}
	if b != nil {
		l.current = b
	}
	current := l.current
	l.mu.Unlock()

	switch {
	case err != nil && current != nil && !l.served:
		// At start, the cached bundle serves when the URL cannot be
		// reached or offers a bundle that is refused.
		l.served = true
		l.opts.Log.Warn("bundle URL failed; serving the cached bundle", slog.String("url", l.location),
			slog.String("revision", current.Header.Revision), slog.String("error", err.Error()))
		return loaded(current), nil
	case err != nil:
		return nil, err
	case current == nil:
		return nil, fmt.Errorf("GET %s: not modified, but no bundle is cached", l.location)
	}
	l.served = true
	return loaded(current), nil
}

// readCache loads the cached bundle at start, verified with the current
// key: a bundle cached under an older key is not served.
func (l *Loader) readCache() {
	if l.opts.CacheDir == "" {
		return
	}
	path := filepath.Join(l.opts.CacheDir, cacheFile)
	if _, err := os.Stat(path); err != nil {
		return
	}
	b, err := readBundle(path, l.opts)
	if err != nil {
		l.opts.Log.Warn("cached bundle refused", slog.String("path", path), slog.String("error", err.Error()))
		return
	}
	etag, _ := os.ReadFile(filepath.Join(l.opts.CacheDir, etagFile)) // #nosec G304 -- inside the operator's --cache-dir
	l.mu.Lock()
	l.current, l.etag = b, strings.TrimSpace(string(etag))
	l.mu.Unlock()
	l.opts.Log.Info("cached bundle found", slog.String("path", path), slog.String("revision", b.Header.Revision))
}

// fetch downloads the URL. It returns the new bundle, or notModified, or
// an error; a refused download is a *format.Refusal.
func (l *Loader) fetch(ctx context.Context) (b *format.Bundle, notModified bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.location, nil)
	if err != nil {
		return nil, false, fmt.Errorf("GET %s: %w", l.location, err)
	}
	if l.current != nil && l.etag != "" {
		req.Header.Set("If-None-Match", l.etag)
	}
	resp, err := l.opts.Client.Do(req)
	if err != nil {
		return nil, false, fmt.Errorf("GET %s: %w", l.location, err)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNotModified:
		if l.current == nil {
			return nil, false, fmt.Errorf("GET %s: 304 Not Modified without a cached bundle", l.location)
		}
		return nil, true, nil
	case http.StatusOK:
	default:
		return nil, false, fmt.Errorf("GET %s: %s", l.location, resp.Status)
	}
	if resp.ContentLength > l.opts.MaxSize {
		return nil, false, fmt.Errorf("GET %s: %w", l.location, &format.Refusal{Problem: format.Oversized,
			Detail: fmt.Sprintf("Content-Length %d, more than the limit of %d", resp.ContentLength, l.opts.MaxSize)})
	}
	etag := resp.Header.Get("ETag")
	if l.opts.CacheDir == "" {
		data, err := readLimited(resp.Body, l.opts.MaxSize)
		if err != nil {
			return nil, false, fmt.Errorf("GET %s: %w", l.location, err)
		}
		b, same, err := l.decodeNew(data)
		if err != nil {
			return nil, false, fmt.Errorf("GET %s: %w", l.location, err)
		}
		l.etag = etag
		return b, same, nil
	}
	b, same, err := l.download(resp.Body)
	if err != nil {
		return nil, false, fmt.Errorf("GET %s: %w", l.location, err)
	}
	l.etag = etag
	if same {
		return nil, true, nil
	}
	if err := writeSmall(filepath.Join(l.opts.CacheDir, etagFile), etag); err != nil {
		l.opts.Log.Warn("could not remember the bundle's ETag", slog.String("error", err.Error()))
	}
	return b, false, nil
}

// decodeNew verifies a downloaded bundle and decodes it, unless it is the
// bundle already held (a server without ETags sends it on every poll):
// then same is true and nothing is decoded.
func (l *Loader) decodeNew(data []byte) (b *format.Bundle, same bool, err error) {
	opts := format.Options{Key: l.opts.Key, MaxSize: l.opts.MaxSize}
	v, err := format.Verify(data, opts)
	if err != nil {
		return nil, false, err
	}
	if l.current != nil && v.Hash == l.current.Hash {
		return nil, true, nil
	}
	b, err = format.Decode(data, opts)
	return b, false, err
}

func readLimited(r io.Reader, maxSize int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if int64(len(data)) > maxSize {
		return nil, &format.Refusal{Problem: format.Oversized, Detail: fmt.Sprintf("more than the limit of %d bytes", maxSize)}
	}
	return data, nil
}

// download writes the body to a temp file in the cache directory, syncs
// it, verifies and decodes it, and only then renames it over the cached
// bundle: a bundle that fails never replaces the last good one on disk.
func (l *Loader) download(body io.Reader) (*format.Bundle, bool, error) {
	tmp, err := os.CreateTemp(l.opts.CacheDir, ".bundle-*")
	if err != nil {
		return nil, false, fmt.Errorf("cache: %w", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; cleans up otherwise
	n, err := io.Copy(tmp, io.LimitReader(body, l.opts.MaxSize+1))
	if err == nil && n > l.opts.MaxSize {
		err = &format.Refusal{Problem: format.Oversized, Detail: fmt.Sprintf("more than the limit of %d bytes", l.opts.MaxSize)}
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("download: %w", err)
	}
	data, err := os.ReadFile(tmp.Name())
	if err != nil {
		return nil, false, fmt.Errorf("download: %w", err)
	}
	b, same, err := l.decodeNew(data)
	if err != nil || same {
		return nil, same, err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(l.opts.CacheDir, cacheFile)); err != nil {
		return nil, false, fmt.Errorf("cache: %w", err)
	}
	if err := syncDir(l.opts.CacheDir); err != nil {
		l.opts.Log.Warn("could not sync the cache directory", slog.String("error", err.Error()))
	}
	return b, false, nil
}

func writeSmall(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- the operator's --cache-dir
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
