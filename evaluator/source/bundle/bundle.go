package bundle

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	format "github.com/promoctl/promoctl/compiler/bundle"
	"github.com/promoctl/promoctl/compiler/snapshot"
	"github.com/promoctl/promoctl/evaluator/store"
	"github.com/promoctl/promoctl/internal/fsutil"
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
	// AllowRollback lets a bundle older than the serving one replace it
	// (a deliberate revert); without it such a bundle is refused with
	// RollbackRefused.
	AllowRollback bool
	// FirstFetchTimeout bounds the first download of a URL when a
	// verified cached bundle exists: after it the cache serves and
	// polling goes on (0: DefaultFirstFetchTimeout).
	FirstFetchTimeout time.Duration
}

// DefaultFirstFetchTimeout is how long a URL source with a verified cached
// bundle waits for its first download before serving the cache.
const DefaultFirstFetchTimeout = 5 * time.Second

// RollbackRefused is the code of a bundle refused because it is older
// than the one serving.
const RollbackRefused = "ROLLBACK_REFUSED"

// RollbackError is a bundle refused because it is older than the one
// serving: an older commit, or the same commit time with another revision
// and no newer build time. Replaying an old signed bundle would otherwise
// bring back what a later one removed.
type RollbackError struct {
	Offered, Serving format.Header
}

func (e *RollbackError) Error() string {
	return fmt.Sprintf("%s: bundle %s (%s) is older than the serving bundle %s (%s); the serving bundle stays unless rollback is allowed",
		RollbackRefused, e.Offered.Revision, describeTimes(e.Offered), e.Serving.Revision, describeTimes(e.Serving))
}

func describeTimes(h format.Header) string {
	t := func(v time.Time) string {
		if v.IsZero() {
			return "none"
		}
		return v.UTC().Format(time.RFC3339)
	}
	return "commit time " + t(h.CommitTime) + ", built " + t(h.BuildTime)
}

// checkOrder refuses offered when it is older than serving: its commit
// time is earlier, or equal with another revision and a build time that is
// not later.
func checkOrder(offered, serving format.Header) error {
	switch {
	case offered.CommitTime.Before(serving.CommitTime):
	case offered.CommitTime.After(serving.CommitTime), offered.Revision == serving.Revision:
		return nil
	case offered.BuildTime.After(serving.BuildTime):
		return nil
	}
	return &RollbackError{Offered: offered, Serving: serving}
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
	if opts.FirstFetchTimeout <= 0 {
		opts.FirstFetchTimeout = DefaultFirstFetchTimeout
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
	if err == nil && l.current != nil && !l.opts.AllowRollback {
		if err = checkOrder(b.Header, l.current.Header); err != nil {
			err = fmt.Errorf("bundle %s: %w", l.location, err)
		}
	}
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

// readBundle reads and decodes a bundle file whole. Like the repo loader,
// it reads only a regular file (a link to a device, a named pipe or a
// socket is refused without blocking) and never more than the size limit.
func readBundle(path string, opts Options) (*format.Bundle, error) {
	data, _, err := fsutil.ReadRegular(path, opts.MaxSize)
	var notRegular *fsutil.NotRegularError
	var tooLarge *fsutil.TooLargeError
	switch {
	case errors.As(err, &notRegular):
		return nil, fmt.Errorf("bundle %s: %s, not a regular file: refused", path, fsutil.DescribeMode(notRegular.Mode))
	case errors.As(err, &tooLarge) && tooLarge.Grew:
		return nil, fmt.Errorf("bundle %s: %w", path, &format.Refusal{Problem: format.Oversized,
			Detail: fmt.Sprintf("more than the limit of %d bytes (it grew while it was read)", opts.MaxSize)})
	case errors.As(err, &tooLarge):
		return nil, fmt.Errorf("bundle %s: %w", path, &format.Refusal{Problem: format.Oversized,
			Detail: fmt.Sprintf("%d bytes, more than the limit of %d", tooLarge.Size, opts.MaxSize)})
	case err != nil:
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
	fetchCtx := ctx
	if !l.served && l.current != nil {
		// A verified cached bundle is ready: a server that accepts the
		// connection and then stalls must not keep the sidecar unready.
		var cancel context.CancelFunc
		fetchCtx, cancel = context.WithTimeout(ctx, l.opts.FirstFetchTimeout)
		defer cancel()
	}
	start := time.Now()
	b, notModified, err := l.fetch(fetchCtx)
	if err != nil && ctx.Err() == nil && errors.Is(fetchCtx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("GET %s: no bundle within the first-fetch timeout of %s", l.location, l.opts.FirstFetchTimeout)
	}
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
		// The client's error repeats the method and URL: keep what it adds.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
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
		data, err := readLimited(resp.Body, l.opts.MaxSize, resp.ContentLength)
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
	if l.current != nil && !l.opts.AllowRollback {
		if err := checkOrder(v.Header, l.current.Header); err != nil {
			return nil, false, err
		}
	}
	b, err = format.Decode(data, opts)
	return b, false, err
}

// readLimited reads a body of at most maxSize bytes (after any
// Content-Encoding is undone). It reads in chunks and copies them once at
// the end: io.ReadAll doubles its buffer, so a small compressed body
// expanding to the limit would cost about three times the limit before it
// was refused. A Content-Length within the limit sizes one buffer.
func readLimited(r io.Reader, maxSize, contentLength int64) ([]byte, error) {
	oversized := &format.Refusal{Problem: format.Oversized, Detail: fmt.Sprintf("more than the limit of %d bytes", maxSize)}
	if contentLength >= 0 && contentLength <= maxSize {
		data := make([]byte, contentLength)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		if n, _ := io.ReadFull(r, make([]byte, 1)); n > 0 {
			return nil, oversized
		}
		return data, nil
	}
	var chunks [][]byte
	var total int64
	size := int64(64 << 10)
	for {
		chunk := make([]byte, min(size, maxSize+1-total))
		n, err := io.ReadFull(r, chunk)
		chunks = append(chunks, chunk[:n])
		total += int64(n)
		if total > maxSize {
			return nil, oversized
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		size = min(2*size, 4<<20)
	}
	data := make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
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
