package compiler

import (
	"io/fs"

	"github.com/promoctl/promoctl/promotions"
)

// Validator validates config repo trees the way validate does, for a
// caller that edits them (the apply flow of the CLI and the console): it
// satisfies applyflow.Validator, so the apply flow needs no import of the
// compiler. The zero value uses the default limits and no cache.
type Validator struct {
	Limits promotions.Limits
	// Cache reuses the results of files loaded before: a command's probe
	// load and its load under the repo lock, or a console's every page and
	// write, parse each file content once.
	Cache *Cache
}

// NewValidator returns a Validator with its own cache.
func NewValidator(limits promotions.Limits) *Validator {
	return &Validator{Limits: limits, Cache: NewCache()}
}

// Validate loads the repo in fsys and runs every check; with a base tree,
// also the is_applied rule and the grant history against it. The model is
// nil when a file could not be parsed or failed its schema.
func (v *Validator) Validate(fsys, base fs.FS) (*promotions.Model, promotions.Diagnostics, error) {
	opts := Options{Limits: v.Limits, Cache: v.Cache}
	var (
		res *Result
		err error
	)
	if base != nil {
		res, err = LoadWithBase(fsys, base, opts)
	} else {
		res, err = Load(fsys, opts)
	}
	if err != nil {
		return nil, nil, err
	}
	return res.Model, res.Diagnostics, nil
}

// OpenDir opens the repo directory root as OpenDir does; close releases it.
func (v *Validator) OpenDir(root string) (fsys fs.FS, close func() error) {
	d := OpenDir(root)
	return d, d.Close
}
