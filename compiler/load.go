package compiler

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
	"github.com/promoctl/promoctl/schema"
)

// Options tune a load.
type Options struct {
	Limits promotions.Limits
	// Workers parse and validate files in parallel; 0 means GOMAXPROCS.
	Workers int
	// Base is the model of the base revision, when there is one. It decides
	// which grants count as new for the eligibility rule.
	Base *promotions.Model
	// Now is the check's clock for the warnings that compare what a change
	// adds with the present (GRANT_BACKDATED, WINDOW_CLOSED); zero means
	// the current time.
	Now time.Time
	// Cache carries per-file results from one load to the next, keyed by
	// path and content hash, so a reload only re-parses changed files.
	Cache *Cache
	// modelOnly skips the cross-file rules: a base revision is loaded for
	// its model, and its own problems are not the change's.
	modelOnly bool
}

// Result is what a load produced. Model is nil when any file could not be
// parsed or failed its schema; Diagnostics then says why.
type Result struct {
	Model       *promotions.Model
	Diagnostics promotions.Diagnostics
	// ContentHash is a hash of every config file's path and content
	// ("sha256:…"): the same files give the same hash on every machine. It
	// is not a git revision; the sidecar names what it serves by the
	// commit when it can (evaluator/source/repo).
	ContentHash string
	// Files is the number of config files; Parsed how many of them had to
	// be parsed because the cache did not know their content.
	Files, Parsed int
	// Bytes is the size of the config files.
	Bytes int64
}

// OK reports whether the repo is valid: a model was built and no error
// was found.
func (r *Result) OK() bool { return r.Model != nil && !r.Diagnostics.HasErrors() }

// fileResult is everything learned from one file on its own.
type fileResult struct {
	hash      [sha256.Size]byte
	kind      string
	feature   *promotions.Feature
	plan      *promotions.Plan
	customers *promotions.CustomersFile
	promotion *promotions.Promotion
	diags     promotions.Diagnostics
	// unparsable is set when nothing could be read from the file, and
	// brokenIDs holds the ids a file declares when its schema failed: both
	// keep references to what the author meant to define from cascading
	// into errors of their own.
	unparsable bool
	brokenIDs  []string
	// size is the length of the content.
	size int64
}

// Cache holds per-file results between loads. It is safe for concurrent use.
type Cache struct {
	mu    sync.Mutex
	files map[string]*fileResult
	// stamps are the files' stamps when they were read, by path.
	stamps map[string]stampRecord
	// state is the last complete load, from which a reload that changes
	// only promotion files is derived without redoing the whole repo.
	state *loadState
	// accumulate keeps every load's results instead of the last one's.
	accumulate bool
}

func (c *Cache) previous() *loadState {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Cache) remember(s *loadState) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = s
}

// NewCache returns an empty cache.
func NewCache() *Cache {
	return &Cache{files: map[string]*fileResult{}, stamps: map[string]stampRecord{}}
}

func (c *Cache) get(file string, hash [sha256.Size]byte) *fileResult {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.files[file]; ok && r.hash == hash {
		return r
	}
	return nil
}

// replace makes the cache hold exactly the given results and stamps,
// dropping files that no longer exist.
func (c *Cache) replace(results map[string]*fileResult, stamps map[string]stampRecord) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.accumulate {
		maps.Copy(c.files, results)
		maps.Copy(c.stamps, stamps)
		return
	}
	c.files, c.stamps = results, stamps
}

// unchanged returns the cached result of a file whose stamp is the one a
// trusted earlier read saw, without reading it again. File systems that
// give no stamp (a git tree, an overlay's files) never match: their files
// are read and recognised by content hash.
func (c *Cache) unchanged(file string, info fs.FileInfo) (*fileResult, stampRecord) {
	stamp, ok := stampOf(info)
	if c == nil || !ok {
		return nil, stampRecord{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rec, ok := c.stamps[file]; ok && rec.trusted && rec.stamp == stamp {
		if r, ok := c.files[file]; ok {
			return r, rec
		}
	}
	return nil, stampRecord{}
}

// newSharedCache returns a cache that keeps the results of every load it
// serves, so that loading a base tree and then a head tree parses each
// distinct file content once.
func newSharedCache() *Cache {
	return &Cache{files: map[string]*fileResult{}, stamps: map[string]stampRecord{}, accumulate: true}
}

// ErrNoConfigFiles is the error of a load of a directory that holds no
// config file: an empty repo, or the wrong directory.
var ErrNoConfigFiles = errors.New("no config files (*.yaml or *.yml) in the directory")

// Load reads, validates and cross-checks every config file of fsys. Problems
// with the content are diagnostics; the error is for failures to read the
// tree at all.
func Load(fsys fs.FS, opts Options) (*Result, error) {
	if opts.Limits == (promotions.Limits{}) {
		opts.Limits = promotions.DefaultLimits
	}
	tree, err := scanTree(fsys)
	if err != nil {
		return nil, err
	}
	files := tree.files
	if len(files) == 0 && len(tree.unsafe) == 0 && !opts.modelOnly {
		return nil, ErrNoConfigFiles
	}
	if over := checkRepoSize(fsys, files, opts.Limits); over != nil {
		opts.Cache.remember(nil)
		return &Result{Files: len(files), Diagnostics: over}, nil
	}
	results, stamps, parsed, err := loadFiles(fsys, files, opts)
	if err != nil {
		return nil, err
	}
	opts.Cache.replace(results, stamps)

	res := &Result{Files: len(files), Parsed: parsed, ContentHash: hashContent(files, results, tree.unsafe)}
	for _, r := range results {
		res.Bytes += r.size
	}
	fileOK := true
	for _, u := range tree.unsafe {
		res.Diagnostics = append(res.Diagnostics, unsafePathDiagnostic(u))
		fileOK = false
	}
	for _, f := range files {
		r := results[f]
		res.Diagnostics = append(res.Diagnostics, r.diags...)
		if r.diags.HasErrors() {
			fileOK = false
		}
	}
	if len(tree.unsafe) > 0 {
		// The repo could not be read whole: what the unread paths declare
		// is unknown, so cross-file rules would only report its absence.
		opts.Cache.remember(nil)
		res.Diagnostics.Sort()
		return res, nil
	}
	if !opts.modelOnly {
		res.Diagnostics = append(res.Diagnostics, checkHasFeatures(files, results)...)
	}
	var state *loadState
	switch prev := opts.Cache.previous(); {
	case opts.modelOnly:
		model, _, _ := assemble(files, results)
		state = &loadState{results: results, model: model}
	case prev != nil && fileOK && opts.Base == nil:
		state = prev.advance(fsys, files, results, opts.Limits)
	}
	if state == nil {
		state = fullCheck(fsys, files, results, opts)
	}
	res.Diagnostics = append(res.Diagnostics, state.diagnostics()...)
	res.Diagnostics.Sort()
	if fileOK {
		res.Model = state.model
		if opts.Base == nil && !opts.modelOnly {
			opts.Cache.remember(state)
		}
	} else {
		opts.Cache.remember(nil)
	}
	return res, nil
}

// loadFiles parses and schema-checks files in parallel, reusing cached
// results for unchanged content. It returns the results and the stamps of
// the files as they were read.
func loadFiles(fsys fs.FS, files []string, opts Options) (map[string]*fileResult, map[string]stampRecord, int, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan string)
	var (
		mu       sync.Mutex
		results  = make(map[string]*fileResult, len(files))
		stamps   = make(map[string]stampRecord, len(files))
		parsed   int
		firstErr error
		wg       sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var sch *schema.Schema // compiled lazily: a fully cached reload needs none
			for file := range jobs {
				r, stamp, fresh, err := loadFile(fsys, file, opts, &sch)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if r != nil {
					results[file] = r
				}
				if stamp != (stampRecord{}) {
					stamps[file] = stamp
				}
				if fresh {
					parsed++
				}
				mu.Unlock()
			}
		}()
	}
	for _, f := range files {
		jobs <- f
	}
	close(jobs)
	wg.Wait()
	return results, stamps, parsed, firstErr
}

func loadFile(fsys fs.FS, file string, opts Options, sch **schema.Schema) (*fileResult, stampRecord, bool, error) {
	// A reload of a large repo reads only the files whose stamp changed.
	if info, err := fs.Stat(fsys, file); err == nil {
		if cached, rec := opts.Cache.unchanged(file, info); cached != nil {
			return cached, rec, false, nil
		}
	}
	readStart := time.Now()
	src, info, err := readConfigFile(fsys, file, opts.Limits.MaxFileBytes)
	var (
		unsafe  *UnsafePathError
		tooBig  *fileTooLargeError
		stamped stampRecord
	)
	switch {
	case errors.As(err, &unsafe):
		// Replaced by something unsafe since the walk saw it.
		return &fileResult{unparsable: true, diags: promotions.Diagnostics{unsafePathDiagnostic(unsafe)}}, stamped, true, nil
	case errors.As(err, &tooBig):
		return &fileResult{diags: promotions.Diagnostics{{
			Severity: promotions.SeverityError, Code: promotions.CodeYAMLSyntax, File: file, Line: 1, Column: 1,
			Message: tooBig.Error(), Limit: promotions.LimitFileBytes,
		}}}, stamped, true, nil
	case err != nil:
		return nil, stamped, false, fmt.Errorf("read %s: %w", file, err)
	}
	if stamp, ok := stampOf(info); ok {
		stamped = recordStamp(stamp, readStart)
	}
	hash := sha256.Sum256(src)
	if cached := opts.Cache.get(file, hash); cached != nil {
		return cached, stamped, false, nil
	}
	r := &fileResult{hash: hash, size: int64(len(src))}
	doc, diags := yamldoc.ParseDocument(file, src, opts.Limits)
	r.diags = diags
	if doc == nil {
		r.unparsable = true
		return r, stamped, true, nil
	}
	if *sch == nil {
		s, err := schema.Compile()
		if err != nil {
			return nil, stamped, true, err
		}
		*sch = s
	}
	r.kind = doc.Kind
	if schemaDiags := (*sch).Validate(doc); schemaDiags.HasErrors() {
		r.diags = append(r.diags, schemaDiags...)
		r.brokenIDs = declaredIDs(doc)
		return r, stamped, true, nil
	}
	switch doc.Kind {
	case promotions.KindFeature:
		f := yamldoc.DecodeFeature(doc)
		r.feature = &f
	case promotions.KindPlan:
		p := yamldoc.DecodePlan(doc)
		r.plan = &p
	case promotions.KindCustomers:
		c := yamldoc.DecodeCustomers(doc)
		r.customers = &c
	case promotions.KindPromotion:
		p := yamldoc.DecodePromotion(doc)
		r.promotion = &p
		if base := strings.TrimSuffix(strings.TrimSuffix(path.Base(file), ".yaml"), ".yml"); base != p.ID {
			r.diags = append(r.diags, doc.Position(promotions.WarningAt(promotions.CodeFileName, file, promotions.P("id"),
				"promotion %s should live in a file named %s.yaml", p.ID, p.ID)))
		}
		if n := len(p.Grants.Customers); n > opts.Limits.MaxGrants {
			r.diags = append(r.diags, doc.Position(promotions.ErrorAt(promotions.CodeSchema, file, promotions.P("grants", "customers"),
				"grants.customers has %d entries, more than the limit of %d", n, opts.Limits.MaxGrants).Reaching(promotions.LimitGrants)))
		}
	}
	return r, stamped, true, nil
}

// hashContent hashes every file's path and content hash, and the paths that
// could not be read.
func hashContent(files []string, results map[string]*fileResult, unsafe []*UnsafePathError) string {
	h := sha256.New()
	for _, u := range unsafe {
		h.Write([]byte(u.Path))
		h.Write([]byte{1})
	}
	for _, f := range files {
		h.Write([]byte(f))
		h.Write([]byte{0})
		if r := results[f]; r != nil {
			h.Write(r.hash[:])
		}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}

// position resolves line and column of diagnostics that only carry a path,
// re-reading each affected file once.
func position(fsys fs.FS, diags promotions.Diagnostics, lim promotions.Limits) promotions.Diagnostics {
	byFile := map[string][]int{}
	for i, d := range diags {
		if d.Line == 0 {
			byFile[d.File] = append(byFile[d.File], i)
		}
	}
	names := make([]string, 0, len(byFile))
	for f := range byFile {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		src, _, err := readConfigFile(fsys, f, lim.MaxFileBytes)
		if err != nil {
			continue
		}
		doc, _ := yamldoc.ParseDocument(f, src, lim)
		if doc == nil {
			continue
		}
		for _, i := range byFile[f] {
			diags[i] = doc.Position(diags[i])
		}
	}
	return diags
}

// declaredIDs returns the ids a document declares, read from its raw value:
// the key of a Feature or Plan, the id of a promotion, the customer ids of a
// Customers file.
func declaredIDs(doc *yamldoc.Document) []string {
	var ids []string
	switch doc.Kind {
	case promotions.KindFeature, promotions.KindPlan:
		if k, ok := doc.Value["key"].(string); ok {
			ids = append(ids, k)
		}
	case promotions.KindPromotion:
		if k, ok := doc.Value["id"].(string); ok {
			ids = append(ids, k)
		}
	case promotions.KindCustomers:
		list, _ := doc.Value["customers"].([]any)
		for _, c := range list {
			if m, ok := c.(map[string]any); ok {
				if id, ok := m["id"].(string); ok {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

// unsafePathDiagnostic reports a path the loader refused to read, at its
// first line and column and without a source frame (see Report).
func unsafePathDiagnostic(u *UnsafePathError) promotions.Diagnostic {
	return promotions.Diagnostic{
		Severity: promotions.SeverityError, Code: promotions.CodeUnsafePath, File: u.Path, Line: 1, Column: 1,
		Message: "not read: it is " + u.Reason + "; only regular files inside the repo are read",
	}
}

// checkHasFeatures reports a repo that defines no Feature: every decision
// would be a FEATURE_NOT_FOUND, so what validate accepts could not be
// served. A file that could not be parsed may be the Feature the author
// meant, so then nothing is reported here.
func checkHasFeatures(files []string, results map[string]*fileResult) promotions.Diagnostics {
	for _, f := range files {
		if r := results[f]; r.unparsable || r.kind == promotions.KindFeature {
			return nil
		}
	}
	return promotions.Diagnostics{{
		Severity: promotions.SeverityError, Code: promotions.CodeNoFeatures, File: files[0], Line: 1, Column: 1,
		Message: fmt.Sprintf("the repo defines no Feature (none of its %d config files has kind: Feature): there would be nothing to serve", len(files)),
	}}
}
