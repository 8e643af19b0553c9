package applyflow

import (
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/promoctl/promoctl/internal/treefs"
	"github.com/promoctl/promoctl/promotions"
	"github.com/promoctl/promoctl/promotions/yamldoc"
)

// Session is one apply-flow edit of a config repo. The CLI (a directory on
// disk, see Disk) and the console (the tree of a git branch) use it alike:
// Open loads the repo and refuses one that is already invalid — the result
// could not be told apart from a change that breaks it; the caller plans a
// change (an Apply on one promotion, or Create); Check validates the whole
// repo as it would be after the change, in memory, and returns the Change.
// Writing the change belongs to the caller's store: Disk writes atomically
// under the repo lock, the console commits to a branch.
type Session struct {
	fsys  fs.FS
	opts  Options
	model *promotions.Model
}

// Validator is what the apply flow needs of the compiler: it opens a repo
// directory and validates a tree as validate does. compiler.Validator
// satisfies it; cmd/promoctl and the console hand one in, so that the
// apply flow, below the compiler, never imports it.
type Validator interface {
	// Validate loads the repo in fsys and runs every check; with a base
	// tree (not nil), also the is_applied rule and grant history against
	// it. The model is nil when the repo could not be built; an error is
	// an I/O failure, not a content problem.
	Validate(fsys, base fs.FS) (*promotions.Model, promotions.Diagnostics, error)
	// OpenDir opens a repo directory as a file system that never leaves
	// it; close releases it.
	OpenDir(root string) (fsys fs.FS, close func() error)
}

// Options tune a session.
type Options struct {
	// Validator validates the repo before and after the change (required).
	// A long-running caller hands in the same one every time, so that its
	// cache parses each file content once.
	Validator Validator
	// Base, when set, is the tree the change is compared with: the
	// is_applied lock and grant history are checked against it, as
	// validate --base does (the console passes the merge-base of the
	// branch it writes to).
	Base fs.FS
}

// InvalidError is a repo that fails validation: before any change (Before)
// or as a change would leave it. Source reads the files the diagnostics
// point into, for source frames.
type InvalidError struct {
	Diagnostics promotions.Diagnostics
	Source      fs.FS
	Before      bool
}

func (e *InvalidError) Error() string {
	if e.Before {
		return "the repo is invalid before any change; fix it first (promoctl validate)"
	}
	return "refused: the change would make the repo invalid"
}

// UnknownPromotionError names a promotion id the repo does not define.
type UnknownPromotionError struct {
	ID string
	// Known are the repo's promotion ids, in order.
	Known []string
}

func (e *UnknownPromotionError) Error() string { return fmt.Sprintf("no promotion %q", e.ID) }

// ExistsError refuses to create what exists: create never overwrites.
type ExistsError struct {
	What string // "promotion <id>" or the file
	File string // where it is defined, when it is a promotion
}

func (e *ExistsError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s already exists in %s; create never overwrites", e.What, e.File)
	}
	return fmt.Sprintf("%s already exists; create never overwrites", e.What)
}

// Open loads the repo in fsys for an edit. An invalid repo is an
// *InvalidError; an unreadable one a plain error.
func Open(fsys fs.FS, opts Options) (*Session, error) {
	if opts.Validator == nil {
		return nil, errors.New("applyflow: Options.Validator is required")
	}
	s := &Session{fsys: fsys, opts: opts}
	model, diags, err := s.opts.Validator.Validate(fsys, s.opts.Base)
	if err != nil {
		return nil, err
	}
	if model == nil || diags.HasErrors() {
		return nil, &InvalidError{Diagnostics: diags.Errors(), Source: fsys, Before: true}
	}
	s.model = model
	return s, nil
}

// Model is the repo as opened. It is shared: callers must not change it.
func (s *Session) Model() *promotions.Model { return s.model }

// Directory returns the customer directory, nil when the repo has none.
func (s *Session) Directory() map[string]*promotions.Customer {
	if !s.model.HasDirectory {
		return nil
	}
	return s.model.Customers
}

// Promotion returns promotion id and its file's content.
func (s *Session) Promotion(id string) (*promotions.Promotion, []byte, error) {
	p, ok := s.model.Promotions[id]
	if !ok {
		return nil, nil, &UnknownPromotionError{ID: id, Known: s.model.PromotionIDs()}
	}
	src, err := fs.ReadFile(s.fsys, p.File)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", p.File, err)
	}
	return p, src, nil
}

// Apply starts planning a state change of promotion id at the instant at.
func (s *Session) Apply(id string, at time.Time) (*Apply, error) {
	p, src, err := s.Promotion(id)
	if err != nil {
		return nil, err
	}
	return NewApply(p, src, s.Directory(), at)
}

// Search returns, in id order, the customers whose id, name or email
// contains query: over the customer directory, or over the promotion's
// access list (which includes customers covered by grants.all).
func (s *Session) Search(p *promotions.Promotion, query string, directory bool) ([]string, error) {
	var ids []string
	if directory {
		if !s.model.HasDirectory {
			return nil, ErrNoDirectory
		}
		for _, id := range s.model.CustomerIDs() {
			if s.model.Customers[id].Matches(query) {
				ids = append(ids, id)
			}
		}
		return ids, nil
	}
	for _, row := range promotions.AccessList(p, s.Directory(), time.Now()) {
		if row.Matches(query) {
			ids = append(ids, row.ID)
		}
	}
	return ids, nil
}

// Change is one file's new content, validated with the rest of the repo.
type Change struct {
	File    string
	Old     []byte // nil when Created
	New     []byte
	Edits   []yamldoc.Edit // Old → New, for a diff
	Created bool
}

// Check validates the repo with file holding content and returns the
// change; a change that leaves the repo invalid is an *InvalidError.
func (s *Session) Check(file string, old, content []byte, edits []yamldoc.Edit, created bool) (*Change, error) {
	overlay := treefs.Overlay(s.fsys, map[string][]byte{file: content})
	model, diags, err := s.opts.Validator.Validate(overlay, s.opts.Base)
	if err != nil {
		return nil, fmt.Errorf("validate the change: %w", err)
	}
	if model == nil || diags.HasErrors() {
		return nil, &InvalidError{Diagnostics: diags.Errors(), Source: overlay}
	}
	return &Change{File: file, Old: old, New: content, Edits: edits, Created: created}, nil
}

// Edit validates the result of edits made with an Editor on file (a
// promotion's fields, say).
func (s *Session) Edit(file string, ed *yamldoc.Editor) (*Change, error) {
	old, err := fs.ReadFile(s.fsys, file)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	content, err := ed.Render()
	if err != nil {
		return nil, err
	}
	return s.Check(file, old, content, ed.Edits(), false)
}

// CheckApply validates the result of a planned state change. Callers look
// at a.Refused() and a.Changed() first: a refused or empty plan has
// nothing to check.
func (s *Session) CheckApply(a *Apply) (*Change, error) {
	// The result is parsed once, by the full validation in Check.
	content, edits, err := a.Unchecked()
	if err != nil {
		return nil, err
	}
	return s.Check(a.promo.File, a.src, content, edits, false)
}

// NewPromotionFile is where create writes promotion id.
func NewPromotionFile(id string) string { return "promotions/" + id + ".yaml" }

// Create plans the file of a new promotion, never applied and without
// grants. p.FeatureType is taken from the feature. An unknown feature is
// an *UnknownFeatureError; an id or file that exists is an *ExistsError.
func (s *Session) Create(p promotions.Promotion) (*Change, error) {
	feature, ok := s.model.Features[p.Feature]
	if !ok {
		return nil, &UnknownFeatureError{Key: p.Feature, Known: promotions.SortedKeys(s.model.Features)}
	}
	p.FeatureType = feature.Type
	if other, exists := s.model.Promotions[p.ID]; exists {
		return nil, &ExistsError{What: "promotion " + p.ID, File: other.File}
	}
	file := NewPromotionFile(p.ID)
	if _, err := fs.Stat(s.fsys, file); err == nil {
		return nil, &ExistsError{What: file}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	content, err := yamldoc.RenderNewPromotion(p)
	if err != nil {
		return nil, err
	}
	return s.Check(file, nil, content, []yamldoc.Edit{{Text: string(content)}}, true)
}

// UnknownFeatureError names a feature key the repo does not define.
type UnknownFeatureError struct {
	Key   string
	Known []string
}

func (e *UnknownFeatureError) Error() string { return fmt.Sprintf("no feature %q", e.Key) }
